#include "socketio/runtime.h"

#include "net/loop.h"
#include "net/loop_group.h"

namespace sb::socketio {

Loops::~Loops() = default;
Link::~Link() = default;

int NetLoops::size() const {
  return group_.size();
}
void NetLoops::post(int loop, Task t) {
  group_.loop(loop).post(std::move(t));
}
void NetLoops::defer(int loop, Task t) {
  group_.loop(loop).defer(std::move(t));
}
net::TimerWheel& NetLoops::timers(int loop) {
  return group_.loop(loop).timers();
}

namespace {
thread_local int tl_loop = -1;
}

int current_loop() {
  return tl_loop;
}
LoopScope::LoopScope(int loop) : saved_(tl_loop) {
  tl_loop = loop;
}
LoopScope::~LoopScope() {
  tl_loop = saved_;
}

}  // namespace sb::socketio
