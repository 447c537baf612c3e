// sys/inotify.h tested directly, without Node: the record parser on made-up bytes, then a real inotify
// descriptor on a temporary directory. Run by run-asan.sh.
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../../native/sys/fd.h"
#include "../../native/sys/inotify.h"
#include "../../native/sys/unique_fd.h"
#include "check.h"

namespace sys = troupe::sys;
using troupe::sys::InotifyRecord;
using troupe::sys::UniqueFd;

namespace {

constexpr size_t kHeader = offsetof(inotify_event, name);

// Appends one record as the kernel lays it out: header, then the name NUL-padded to `padded` bytes.
void put(std::vector<uint8_t>& out, int wd, uint32_t mask, uint32_t cookie, const std::string& name, uint32_t padded) {
  inotify_event ev{};
  ev.wd = wd;
  ev.mask = mask;
  ev.cookie = cookie;
  ev.len = padded;
  const auto* p = reinterpret_cast<const uint8_t*>(&ev);
  out.insert(out.end(), p, p + kHeader);
  std::string padded_name = name.substr(0, padded);
  padded_name.resize(padded, '\0');
  out.insert(out.end(), padded_name.begin(), padded_name.end());
}

std::string name_of(const std::vector<uint8_t>& buf, const InotifyRecord& r) {
  return std::string(reinterpret_cast<const char*>(buf.data()) + r.name_off, r.name_len);
}

void parser() {
  std::vector<uint8_t> buf;
  put(buf, 1, IN_CREATE, 0, "a.txt", 16);
  put(buf, 1, IN_ATTRIB | IN_ISDIR, 0, "", 0);
  put(buf, 2, IN_MOVED_FROM, 77, "exactly-sixteen!", 16);  // fills its padding: no NUL at all
  put(buf, -1, IN_Q_OVERFLOW, 0, "", 0);
  InotifyRecord out[8];
  CHECK(sys::parse_inotify(buf.data(), buf.size(), out, 8) == 4);
  CHECK(out[0].wd == 1 && out[0].mask == IN_CREATE && name_of(buf, out[0]) == "a.txt");
  CHECK(out[1].wd == 1 && out[1].mask == (IN_ATTRIB | IN_ISDIR) && out[1].name_len == 0);
  CHECK(out[2].wd == 2 && out[2].cookie == 77 && name_of(buf, out[2]) == "exactly-sixteen!");
  CHECK(out[3].wd == -1 && out[3].mask == IN_Q_OVERFLOW && out[3].name_len == 0);

  // An empty read is no record; room for fewer records than there are is -ENOBUFS.
  CHECK(sys::parse_inotify(buf.data(), 0, out, 8) == 0);
  CHECK(sys::parse_inotify(buf.data(), buf.size(), out, 3) == -ENOBUFS);

  // A header cut short, or a name running past the end, is -EBADMSG: nothing outside the bytes is read.
  for (size_t cut : {size_t{1}, kHeader - 1, kHeader + 3, buf.size() - 1}) {
    std::vector<uint8_t> part(buf.begin(), buf.begin() + static_cast<long>(cut));
    part.shrink_to_fit();  // so that ASan catches a read past the end
    int n = sys::parse_inotify(part.data(), part.size(), out, 8);
    CHECK(n == -EBADMSG);
    if (n != -EBADMSG) std::printf("  cut at %zu: %d\n", cut, n);
  }

  // A buffer at an odd address parses the same (no aligned loads).
  std::vector<uint8_t> shifted(buf.size() + 1);
  std::memcpy(shifted.data() + 1, buf.data(), buf.size());
  CHECK(sys::parse_inotify(shifted.data() + 1, buf.size(), out, 8) == 4);
  CHECK(out[2].cookie == 77 && out[2].name_off == 2 * kHeader + 16 + kHeader && out[2].name_len == 16);
  CHECK(std::memcmp(shifted.data() + 1 + out[2].name_off, "exactly-sixteen!", 16) == 0);
}

std::string temp_dir() {
  char tmpl[] = "/tmp/troupe-inotify-XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d == nullptr ? std::string() : std::string(d);
}

bool readable(int fd, int timeout_ms = 5000) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

// Reads what is queued (waiting up to 5 s for the first record).
std::vector<std::pair<InotifyRecord, std::string>> drain(int fd) {
  std::vector<std::pair<InotifyRecord, std::string>> got;
  std::vector<uint8_t> buf(4096);
  std::vector<InotifyRecord> recs(buf.size() / sys::kInotifyRecordMin);
  if (!readable(fd)) return got;
  for (;;) {
    int n = sys::read_inotify(fd, buf.data(), buf.size(), recs.data(), recs.size());
    if (n <= 0) break;
    for (int i = 0; i < n; i++) got.emplace_back(recs[i], name_of(buf, recs[i]));
  }
  return got;
}

bool has(const std::vector<std::pair<InotifyRecord, std::string>>& got, int wd, uint32_t mask, const std::string& name) {
  for (const auto& [r, n] : got) {
    if (r.wd == wd && (r.mask & mask) == mask && n == name) return true;
  }
  return false;
}

void live() {
  std::string dir = temp_dir();
  CHECK(!dir.empty());
  UniqueFd in(sys::inotify_init1());
  CHECK(in.valid());
  CHECK(sys::fd_flags(in.get()) == (sys::kFlagCloexec | sys::kFlagNonblock));

  // Nothing queued: -EAGAIN; a buffer too small for one record, or an output too small for the buffer,
  // is -EINVAL before anything is read.
  std::vector<uint8_t> buf(4096);
  std::vector<InotifyRecord> recs(buf.size() / sys::kInotifyRecordMin);
  CHECK(sys::read_inotify(in.get(), buf.data(), buf.size(), recs.data(), recs.size()) == -EAGAIN);
  CHECK(sys::read_inotify(in.get(), buf.data(), sys::kInotifyReadMin - 1, recs.data(), recs.size()) == -EINVAL);
  CHECK(sys::read_inotify(in.get(), buf.data(), buf.size(), recs.data(), recs.size() - 1) == -EINVAL);

  uint32_t dir_mask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
  int wd = sys::inotify_add_watch(in.get(), dir.c_str(), dir_mask);
  CHECK(wd >= 1);
  CHECK(sys::inotify_add_watch(in.get(), dir.c_str(), dir_mask) == wd);  // the same inode: the same wd
  CHECK(sys::inotify_add_watch(in.get(), (dir + "/missing").c_str(), dir_mask) == -ENOENT);
  CHECK(sys::inotify_add_watch(-1, dir.c_str(), dir_mask) == -EBADF);

  std::string file = dir + "/f";
  int fd = open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  CHECK(fd >= 0);
  CHECK(sys::inotify_add_watch(in.get(), file.c_str(), dir_mask) == -ENOTDIR);  // IN_ONLYDIR
  CHECK(write(fd, "x", 1) == 1);
  close(fd);
  CHECK(chmod(file.c_str(), 0600) == 0);
  auto got = drain(in.get());
  CHECK(has(got, wd, IN_CREATE, "f"));
  CHECK(has(got, wd, IN_MODIFY, "f"));
  CHECK(has(got, wd, IN_ATTRIB, "f"));

  // A watch on the file itself: its events carry no name.
  int fwd = sys::inotify_add_watch(in.get(), file.c_str(), IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF);
  CHECK(fwd >= 1 && fwd != wd);
  CHECK(chmod(file.c_str(), 0644) == 0);
  got = drain(in.get());
  CHECK(has(got, fwd, IN_ATTRIB, ""));
  CHECK(has(got, wd, IN_ATTRIB, "f"));

  // Removing the watch queues IN_IGNORED; removing it again is -EINVAL.
  CHECK(sys::inotify_rm_watch(in.get(), fwd) == 0);
  CHECK(sys::inotify_rm_watch(in.get(), fwd) == -EINVAL);
  got = drain(in.get());
  CHECK(has(got, fwd, IN_IGNORED, ""));

  // Deleting the file and the directory: IN_DELETE, then the directory's IN_DELETE_SELF and IN_IGNORED.
  CHECK(unlink(file.c_str()) == 0);
  CHECK(rmdir(dir.c_str()) == 0);
  got = drain(in.get());
  CHECK(has(got, wd, IN_DELETE, "f"));
  CHECK(has(got, wd, IN_DELETE_SELF, ""));
  CHECK(has(got, wd, IN_IGNORED, ""));
  CHECK(sys::inotify_rm_watch(in.get(), wd) == -EINVAL);  // the kernel dropped it already

  // A full queue ends with one IN_Q_OVERFLOW record of wd -1. The limit is a sysctl: read it.
  std::string dir2 = temp_dir();
  int wd2 = sys::inotify_add_watch(in.get(), dir2.c_str(), dir_mask);
  CHECK(wd2 >= 1);
  long limit = 16384;
  if (FILE* f = std::fopen("/proc/sys/fs/inotify/max_queued_events", "r")) {
    if (std::fscanf(f, "%ld", &limit) != 1) limit = 16384;
    std::fclose(f);
  }
  std::string g = dir2 + "/g";
  int gfd = open(g.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  CHECK(gfd >= 0);
  // NB: identical successive events are merged by the kernel, so alternate two kinds.
  for (long i = 0; i <= limit / 2 + 1; i++) {
    if (ftruncate(gfd, i % 2) != 0 || fchmod(gfd, (i % 2) ? 0600 : 0644) != 0) break;
  }
  close(gfd);
  got = drain(in.get());
  CHECK(!got.empty() && got.back().first.wd == -1 && got.back().first.mask == IN_Q_OVERFLOW);
  CHECK(unlink(g.c_str()) == 0);
  CHECK(rmdir(dir2.c_str()) == 0);
}

}  // namespace

int main() {
  parser();
  live();
  return troupe::test::report();
}
