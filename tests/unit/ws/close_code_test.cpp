#include "ws/close_code.h"

#include <gtest/gtest.h>

namespace sb::ws {
namespace {

TEST(CloseCode, Validity) {
  for (uint32_t c = 0; c < 65536; ++c) {
    const bool want =
        (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
    ASSERT_EQ(is_valid_close_code(static_cast<uint16_t>(c)), want) << c;
  }
  EXPECT_EQ(close_code_name(1009), "message_too_big");
  EXPECT_EQ(close_code_name(4000), "application");
  EXPECT_EQ(close_code_name(2000), "invalid");
}

TEST(CloseHandshake, ServerInitiated) {
  CloseHandshake h;
  EXPECT_TRUE(h.can_send_data());
  h.on_close_sent();
  EXPECT_FALSE(h.can_send_data());
  EXPECT_FALSE(h.done());
  EXPECT_FALSE(h.on_close_received());  // no second close frame
  EXPECT_TRUE(h.done());
}

TEST(CloseHandshake, ClientInitiated) {
  CloseHandshake h;
  EXPECT_TRUE(h.on_close_received());  // must echo
  EXPECT_FALSE(h.done());
  h.on_close_sent();
  EXPECT_TRUE(h.done());
}

}  // namespace
}  // namespace sb::ws
