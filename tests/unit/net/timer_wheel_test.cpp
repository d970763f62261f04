// TimerWheel driven by synthetic clock values: no sleeping, no real time.
//
// The contract under test: a timer armed with delay d at wheel time t (the `now` of the last
// advance()) fires in the first advance(now) with now >= t + d, never earlier, exactly once.

#include "net/timer_wheel.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace sb::net {
namespace {

constexpr uint64_t kTick = TimerWheel::kTickMs;
constexpr uint64_t kRotationMs = TimerWheel::kSlots * TimerWheel::kTickMs;

TEST(TimerWheelTest, EmptyWheelHasNoTimeout) {
  TimerWheel w(0);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.next_timeout_ms(0), -1);
  w.advance(123456);  // nothing to do, must not loop or crash
  EXPECT_EQ(w.next_timeout_ms(123456), -1);
}

TEST(TimerWheelTest, FiresAfterDelayNeverEarly) {
  for (uint64_t start : {0u, 1u, 5u, 9u, 10u, 1234u, 99999u}) {
    for (uint64_t delay : {0u, 1u, 9u, 10u, 11u, 15u, 100u, 999u, 1000u}) {
      TimerWheel w(0);
      w.advance(start);  // establishes the wheel's notion of "now"
      Timer t;
      int fired = 0;
      w.arm(t, delay, [&] { ++fired; });
      EXPECT_TRUE(t.armed());
      EXPECT_EQ(w.size(), 1u);
      // Step 1 ms at a time: the first advance that fires must be at least `delay` after arming.
      uint64_t now = start;
      while (fired == 0 && now < start + delay + 5 * kTick) {
        ++now;
        w.advance(now);
      }
      ASSERT_EQ(fired, 1) << "start=" << start << " delay=" << delay;
      EXPECT_GE(now, start + delay) << "fired early: start=" << start << " delay=" << delay;
      // Coarse resolution: at most two ticks late (one for rounding, one for the tick in progress).
      EXPECT_LE(now, start + delay + 2 * kTick) << "start=" << start << " delay=" << delay;
      EXPECT_FALSE(t.armed());
      EXPECT_EQ(w.size(), 0u);
      w.advance(now + 10 * kRotationMs);
      EXPECT_EQ(fired, 1) << "fired twice";
    }
  }
}

// Arming right after construction (before any advance) must not fire early either.
// BUG (src/net/timer_wheel.cpp:10): the constructor sets current_tick_ = now_ms / kTickMs while
// advance() leaves current_tick_ = now_ms / kTickMs + 1 ("every tick < current_tick_ has been
// processed"). So a timer armed on a fresh wheel at now=109 with delay 10 gets deadline tick 11 and
// fires at now=110, after 1 ms. Fix: initialise current_tick_(now_ms / kTickMs + 1).
TEST(TimerWheelTest, ArmBeforeFirstAdvanceNeverEarly) {
  TimerWheel w(109);
  Timer t;
  int fired = 0;
  w.arm(t, 10, [&] { ++fired; });
  w.advance(118);  // 9 ms after arming
  EXPECT_EQ(fired, 0) << "a 10 ms timer fired 9 ms after it was armed";
  w.advance(119);
  w.advance(140);
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheelTest, AdvanceWithLargeJumpFiresEverythingDueOnce) {
  TimerWheel w(0);
  w.advance(0);
  Timer a, b, c;
  int fa = 0, fb = 0, fc = 0;
  w.arm(a, 10, [&] { ++fa; });
  w.arm(b, 500, [&] { ++fb; });
  w.arm(c, 5000, [&] { ++fc; });
  w.advance(1000);
  EXPECT_EQ(fa, 1);
  EXPECT_EQ(fb, 1);
  EXPECT_EQ(fc, 0);
  EXPECT_EQ(w.size(), 1u);
  w.advance(4999);
  EXPECT_EQ(fc, 0);
  w.advance(5020);
  EXPECT_EQ(fc, 1);
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheelTest, CancelPreventsFiring) {
  TimerWheel w(0);
  w.advance(0);
  Timer t;
  int fired = 0;
  w.arm(t, 50, [&] { ++fired; });
  EXPECT_TRUE(t.armed());
  t.cancel();
  EXPECT_FALSE(t.armed());
  EXPECT_EQ(w.size(), 0u);
  t.cancel();  // idempotent
  w.advance(1000);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(w.next_timeout_ms(1000), -1);
}

TEST(TimerWheelTest, DestroyingArmedTimerUnlinksIt) {
  TimerWheel w(0);
  w.advance(0);
  int fired = 0;
  Timer keep;
  w.arm(keep, 30, [&] { ++fired; });
  {
    auto t = std::make_unique<Timer>();
    w.arm(*t, 30, [&] { fired += 100; });
    EXPECT_EQ(w.size(), 2u);
  }
  EXPECT_EQ(w.size(), 1u);
  w.advance(100);
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheelTest, TimerOutlivingWheelIsDisarmed) {
  Timer t;
  {
    TimerWheel w(0);
    w.arm(t, 100, [] {});
    EXPECT_TRUE(t.armed());
  }
  EXPECT_FALSE(t.armed());
  t.cancel();  // must not touch the destroyed wheel
}

TEST(TimerWheelTest, RearmMovesTimer) {
  TimerWheel w(0);
  w.advance(0);
  Timer t;
  int first = 0, second = 0;
  w.arm(t, 20, [&] { ++first; });
  w.arm(t, 200, [&] { ++second; });  // replaces both deadline and callback
  EXPECT_EQ(w.size(), 1u);
  w.advance(100);
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 0);
  w.advance(220);
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
}

TEST(TimerWheelTest, RearmFromInsideOwnCallback) {
  TimerWheel w(0);
  w.advance(0);
  Timer t;
  std::vector<uint64_t> fired_at;
  uint64_t now = 0;
  std::function<void()> periodic = [&] {
    fired_at.push_back(now);
    if (fired_at.size() < 5) w.arm(t, 100, periodic);
  };
  w.arm(t, 100, periodic);
  for (now = 1; now <= 2000; ++now)
    w.advance(now);
  ASSERT_EQ(fired_at.size(), 5u);
  for (size_t i = 1; i < fired_at.size(); ++i) {
    EXPECT_GE(fired_at[i] - fired_at[i - 1], 100u);
    EXPECT_LE(fired_at[i] - fired_at[i - 1], 100u + 2 * kTick);
  }
  EXPECT_FALSE(t.armed());
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheelTest, ZeroDelayRearmInsideCallbackDoesNotLoopForever) {
  TimerWheel w(0);
  w.advance(0);
  Timer t;
  int fired = 0;
  std::function<void()> again = [&] {
    ++fired;
    w.arm(t, 0, again);
  };
  w.arm(t, 0, again);
  uint64_t now = 0;
  int advances = 0;
  while (fired == 0 && now < 100) {
    now += kTick;
    w.advance(now);
    ++advances;
  }
  ASSERT_EQ(fired, 1) << "one advance fires a re-arming zero-delay timer once";
  for (int i = 2; i <= 5; ++i) {
    now += kTick;  // the re-armed timer is due in the next tick, not in the one being processed
    w.advance(now);
    EXPECT_EQ(fired, i);
  }
  EXPECT_LE(advances, 2);
  t.cancel();
}

TEST(TimerWheelTest, CallbackCancelsAnotherDueTimer) {
  // Both timers are due in the same tick; whichever fires first cancels the other.
  TimerWheel w(0);
  w.advance(0);
  Timer a, b;
  int fa = 0, fb = 0;
  w.arm(a, 50, [&] {
    ++fa;
    b.cancel();
  });
  w.arm(b, 50, [&] {
    ++fb;
    a.cancel();
  });
  w.advance(100);
  EXPECT_EQ(fa + fb, 1);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_FALSE(a.armed());
  EXPECT_FALSE(b.armed());
}

TEST(TimerWheelTest, CallbackCancelsLaterTimerAndArmsNewOne) {
  TimerWheel w(0);
  w.advance(0);
  Timer a, b, c;
  int fb = 0, fc = 0;
  w.arm(b, 500, [&] { ++fb; });
  w.arm(a, 50, [&] {
    b.cancel();
    w.arm(c, 50, [&] { ++fc; });
  });
  w.advance(60);
  EXPECT_FALSE(b.armed());
  EXPECT_TRUE(c.armed());
  w.advance(2000);
  EXPECT_EQ(fb, 0);
  EXPECT_EQ(fc, 1);
}

TEST(TimerWheelTest, CallbackDestroysItsOwnTimer) {
  TimerWheel w(0);
  w.advance(0);
  auto t = std::make_unique<Timer>();
  int fired = 0;
  w.arm(*t, 10, [&] {
    ++fired;
    t.reset();  // e.g. a connection freeing itself from its timeout
  });
  w.advance(100);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(t, nullptr);
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheelTest, LongDelaysSpanSeveralRotations) {
  TimerWheel w(0);
  w.advance(0);
  const uint64_t delays[] = {kRotationMs - kTick,
                             kRotationMs,
                             kRotationMs + kTick,
                             2 * kRotationMs + 5,
                             3 * kRotationMs + 777,
                             30000,
                             65000};
  std::vector<std::unique_ptr<Timer>> timers;
  std::vector<uint64_t> fired_at(std::size(delays), 0);
  uint64_t now = 0;
  for (size_t i = 0; i < std::size(delays); ++i) {
    timers.push_back(std::make_unique<Timer>());
    w.arm(*timers.back(), delays[i], [&fired_at, &now, i] { fired_at[i] = now; });
  }
  // Advance in 7 ms steps: every slot gets visited repeatedly, each round of the wheel passes by.
  for (now = 7; now <= 70000; now += 7)
    w.advance(now);
  for (size_t i = 0; i < std::size(delays); ++i) {
    EXPECT_GE(fired_at[i], delays[i]) << "timer " << delays[i] << " ms fired early";
    EXPECT_LE(fired_at[i], delays[i] + 3 * kTick) << "timer " << delays[i] << " ms fired late";
  }
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheelTest, NextTimeoutIsNeverLaterThanTheFirstDeadline) {
  for (uint64_t start : {0u, 3u, 10u, 4567u}) {
    for (uint64_t delay : {0u, 1u, 10u, 25u, 1000u, 10000u}) {
      TimerWheel w(0);
      w.advance(start);
      Timer t;
      bool fired = false;
      w.arm(t, delay, [&] { fired = true; });
      // Follow the wheel's own advice, as the loop does with epoll_wait: it must lead to the timer
      // firing (possibly after a few early wake-ups), and it must never be negative.
      uint64_t now = start;
      int wakeups = 0;
      while (!fired && wakeups < 100) {
        int ms = w.next_timeout_ms(now);
        ASSERT_GE(ms, 0);
        EXPECT_LE(static_cast<uint64_t>(ms), delay + 2 * kTick);
        now += static_cast<uint64_t>(ms);
        w.advance(now);
        ++wakeups;
        if (ms == 0 && !fired) {
          now += 1;  // a due-now answer must fire on the next advance
          w.advance(now);
        }
      }
      EXPECT_TRUE(fired) << "start=" << start << " delay=" << delay;
      EXPECT_GE(now, start + delay);
      EXPECT_EQ(w.next_timeout_ms(now), -1);
    }
  }
}

TEST(TimerWheelTest, NextTimeoutForTimerInLaterRoundWakesEarlyButNotLate) {
  TimerWheel w(0);
  w.advance(0);
  Timer t;
  bool fired = false;
  w.arm(t, 3 * kRotationMs + 50, [&] { fired = true; });
  uint64_t now = 0;
  int wakeups = 0;
  while (!fired && wakeups < 20) {
    int ms = w.next_timeout_ms(now);
    ASSERT_GT(ms, 0);
    ASSERT_LE(static_cast<uint64_t>(ms), kRotationMs + kTick);
    now += static_cast<uint64_t>(ms);
    w.advance(now);
    ++wakeups;
  }
  EXPECT_TRUE(fired);
  EXPECT_GE(now, 3 * kRotationMs + 50);
  EXPECT_LE(wakeups, 6);
}

TEST(TimerWheelTest, NextTimeoutIsZeroWhenOverdue) {
  TimerWheel w(0);
  w.advance(0);
  Timer t;
  w.arm(t, 20, [] {});
  EXPECT_EQ(w.next_timeout_ms(500), 0);
  t.cancel();
}

TEST(TimerWheelTest, ManyTimersEachFireOnceNeverEarly) {
  constexpr int kTimers = 20000;
  TimerWheel w(0);
  w.advance(0);
  std::mt19937 rng(12345);
  std::uniform_int_distribution<uint64_t> dist(0, 25000);
  std::vector<std::unique_ptr<Timer>> timers(kTimers);
  std::vector<uint64_t> delay(kTimers);
  std::vector<int> count(kTimers, 0);
  std::vector<uint64_t> fired_at(kTimers, 0);
  uint64_t now = 0;
  for (int i = 0; i < kTimers; ++i) {
    timers[i] = std::make_unique<Timer>();
    delay[i] = dist(rng);
    w.arm(*timers[i], delay[i], [&, i] {
      ++count[i];
      fired_at[i] = now;
    });
  }
  // Cancel every 7th before it can fire (those with a long enough delay).
  int cancelled = 0;
  for (int i = 0; i < kTimers; i += 7) {
    if (delay[i] > 50) {
      timers[i]->cancel();
      ++cancelled;
    }
  }
  EXPECT_EQ(w.size(), static_cast<size_t>(kTimers - cancelled));
  std::uniform_int_distribution<uint64_t> step(1, 40);
  while (now < 26000) {
    now += step(rng);
    w.advance(now);
  }
  for (int i = 0; i < kTimers; ++i) {
    bool was_cancelled = (i % 7 == 0) && delay[i] > 50;
    if (was_cancelled) {
      EXPECT_EQ(count[i], 0) << i;
      continue;
    }
    ASSERT_EQ(count[i], 1) << "timer " << i << " delay " << delay[i];
    EXPECT_GE(fired_at[i], delay[i]) << "timer " << i << " fired early";
    EXPECT_LE(fired_at[i], delay[i] + 40 + 2 * kTick) << "timer " << i << " fired late";
  }
  EXPECT_EQ(w.size(), 0u);
}

}  // namespace
}  // namespace sb::net
