#include "adapter/transcode_common.h"

#include <algorithm>

namespace sb::adapter::transcode {

bool is_array_index(std::string_view k, uint32_t& idx) {
  if (k.empty() || k.size() > 10 || (k.size() > 1 && k[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : k) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 4294967294u) return false;
  idx = static_cast<uint32_t>(v);
  return true;
}

bool has_duplicates(std::span<const std::string_view> keys, std::vector<std::string_view>& tmp) {
  if (keys.size() <= 32) {
    for (size_t i = 1; i < keys.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (keys[i] == keys[j]) return true;
      }
    }
    return false;
  }
  tmp.assign(keys.begin(), keys.end());
  std::sort(tmp.begin(), tmp.end());
  return std::adjacent_find(tmp.begin(), tmp.end()) != tmp.end();
}

void js_key_order(std::span<const std::string_view> keys, bool drop_proto,
                  std::vector<uint32_t>& order) {
  struct Entry {
    std::string_view key;
    uint32_t pos;
  };
  struct Group {
    uint32_t first;
    uint32_t last;
    bool is_index;
    uint32_t index;
  };
  std::vector<Entry> entries;
  entries.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!(drop_proto && keys[i] == "__proto__")) {
      entries.push_back({keys[i], static_cast<uint32_t>(i)});
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.key < b.key; });
  std::vector<Group> groups;
  for (size_t i = 0; i < entries.size();) {
    size_t j = i;
    while (j + 1 < entries.size() && entries[j + 1].key == entries[i].key)
      ++j;
    Group g{entries[i].pos, entries[j].pos, false, 0};
    g.is_index = is_array_index(entries[i].key, g.index);
    groups.push_back(g);
    i = j + 1;
  }
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    if (a.is_index != b.is_index) return a.is_index;
    return a.is_index ? a.index < b.index : a.first < b.first;
  });
  order.clear();
  for (const Group& g : groups)
    order.push_back(g.last);
}

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace sb::adapter::transcode
