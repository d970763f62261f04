#include "redis/reply_reader.h"

#include <hiredis/read.h>

#include <climits>

namespace sb::redis {

// hiredis calls these while parsing. A child lives inside its parent's `elements` (sized when the
// array header was read), so only the root is heap-allocated and only the root is ever freed.
struct ReaderCallbacks {
  static Reply* place(const redisReadTask* task) {
    if (task->parent == nullptr) return new Reply();  // NOLINT(cppcoreguidelines-owning-memory)
    auto* parent = static_cast<Reply*>(task->parent->obj);
    if (parent == nullptr || task->idx < 0 ||
        static_cast<size_t>(task->idx) >= parent->elements.size()) {
      return nullptr;  // cannot happen with a well-behaved parser; reported as an error
    }
    return &parent->elements[static_cast<size_t>(task->idx)];
  }

  static void* create_string(const redisReadTask* task, char* str, size_t len) {
    Reply* r = place(task);
    if (r == nullptr) return nullptr;
    switch (task->type) {
      case REDIS_REPLY_ERROR:
        r->type = Reply::Type::kError;
        break;
      case REDIS_REPLY_STATUS:
        r->type = Reply::Type::kStatus;
        break;
      default:
        r->type = Reply::Type::kString;
        break;
    }
    r->str.assign(str, len);
    return r;
  }

  static void* create_array(const redisReadTask* task, int elements) {
    auto* self = static_cast<ReplyReader*>(task->privdata);
    // hiredis passes the count as an int: a huge or negative header is refused here, before any
    // allocation (a NULL return makes the reader fail).
    if (elements < 0 || self == nullptr) return nullptr;
    self->elements_ += static_cast<size_t>(elements);
    if (self->elements_ > self->limits_.max_elements) return nullptr;
    Reply* r = place(task);
    if (r == nullptr) return nullptr;
    r->type = Reply::Type::kArray;
    r->elements.resize(static_cast<size_t>(elements));
    return r;
  }

  static void* create_integer(const redisReadTask* task, long long value) {
    Reply* r = place(task);
    if (r == nullptr) return nullptr;
    r->type = Reply::Type::kInteger;
    r->integer = value;
    return r;
  }

  static void* create_nil(const redisReadTask* task) {
    Reply* r = place(task);
    if (r == nullptr) return nullptr;
    r->type = Reply::Type::kNil;
    return r;
  }

  static void free_object(void* obj) {
    delete static_cast<Reply*>(
        obj);  // NOLINT(cppcoreguidelines-owning-memory): hiredis frees roots only
  }
};

namespace {

redisReplyObjectFunctions g_functions = {
    ReaderCallbacks::create_string, ReaderCallbacks::create_array, ReaderCallbacks::create_integer,
    ReaderCallbacks::create_nil, ReaderCallbacks::free_object};

}  // namespace

ReplyReader::ReplyReader(ReplyReaderLimits limits)
    : r_(redisReaderCreateWithFunctions(&g_functions)), limits_(limits) {
  if (r_ == nullptr) {
    failed_ = true;
    return;
  }
  r_->privdata = this;
  // hiredis keeps at most this much idle buffer between replies; larger is released.
  r_->maxbuf = 64 * 1024;
}

ReplyReader::~ReplyReader() {
  if (r_ != nullptr) redisReaderFree(r_);
}

Result<void> ReplyReader::feed(std::span<const uint8_t> bytes) {
  return feed(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Result<void> ReplyReader::feed(std::string_view bytes) {
  if (failed_) return Error{Errc::kProtocol, "redis reply reader failed earlier"};
  if (bytes.empty()) return {};
  if (buffered() + bytes.size() > limits_.max_buffer_bytes) {
    failed_ = true;
    return Error{Errc::kTooLarge, "redis reply larger than the reader's buffer limit"};
  }
  if (redisReaderFeed(r_, bytes.data(), bytes.size()) != REDIS_OK) {
    failed_ = true;
    return Error{Errc::kProtocol, "redis reader refused input"};
  }
  return {};
}

Result<std::optional<Reply>> ReplyReader::next() {
  if (failed_) return Error{Errc::kProtocol, "redis reply reader failed earlier"};
  void* obj = nullptr;
  if (redisReaderGetReply(r_, &obj) != REDIS_OK) {
    failed_ = true;
    if (elements_ > limits_.max_elements) {
      return Error{Errc::kTooLarge, "redis reply has too many array elements"};
    }
    return Error{Errc::kProtocol, "redis protocol error"};
  }
  if (obj == nullptr) return std::optional<Reply>();
  elements_ = 0;
  std::unique_ptr<Reply> owned(static_cast<Reply*>(obj));
  return std::optional<Reply>(std::move(*owned));
}

std::string_view ReplyReader::error_text() const {
  if (r_ == nullptr) return "out of memory";
  return r_->errstr;
}

size_t ReplyReader::buffered() const {
  return r_ == nullptr ? 0 : r_->len - r_->pos;
}

// hiredis advances `pos` element by element, so an array cut in the middle leaves nothing
// buffered while its parse is under way. A root task whose type is still unread (what asking for
// a reply on an empty buffer sets up) has started nothing.
bool ReplyReader::idle() const {
  if (failed_) return false;
  if (r_ == nullptr) return true;
  return r_->len == r_->pos && (r_->ridx == -1 || (r_->ridx == 0 && r_->rstack[0].type < 0));
}

}  // namespace sb::redis
