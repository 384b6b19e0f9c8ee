// c-ares glue: one channel, lookups through ares_getaddrinfo (hosts file, then DNS). No
// exceptions: set-up failures are a Status from create(), lookup failures a Status in Result.
#include "regfront/dns/resolver.h"

#include <ares.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace regfront::dns {

struct ResolverAccess {
  static void done(Resolver& r) { --r.pending_; }
};

namespace {

struct Pending {
  Resolver* owner;
  std::uint16_t port;
  Resolver::Callback cb;
};

// c-ares' status as a Status; the message is c-ares' own text, which operators see in the log
// and in `show sip-ua register registrars`.
Status lookup_failure(int status) {
  std::string text = ares_strerror(status);
  switch (status) {
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_ENONAME:
      return Status::not_found(std::move(text));
    case ARES_ETIMEOUT:
    case ARES_ECONNREFUSED:
    case ARES_ESERVFAIL:
    case ARES_EREFUSED:
      return Status::unavailable(std::move(text));
    case ARES_EBADNAME:
      return Status::invalid_argument(std::move(text));
    default:
      return Status::internal(std::move(text));
  }
}

void on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* ai) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(arg));
  ResolverAccess::done(*p->owner);
  Resolver::Result res;
  if (status != ARES_SUCCESS || ai == nullptr) {
    res.status = lookup_failure(status);
    if (ai) ares_freeaddrinfo(ai);
    p->cb(res);
    return;
  }
  std::uint32_t ttl = 0;
  bool ttl_set = false;
  for (int family : {AF_INET, AF_INET6}) {
    for (ares_addrinfo_node* n = ai->nodes; n != nullptr; n = n->ai_next) {
      if (n->ai_family != family) continue;
      sockaddr_storage ss{};
      std::memcpy(&ss, n->ai_addr, n->ai_addrlen);
      if (family == AF_INET) reinterpret_cast<sockaddr_in&>(ss).sin_port = htons(p->port);
      else reinterpret_cast<sockaddr_in6&>(ss).sin6_port = htons(p->port);
      res.addresses.push_back(ss);
      res.lengths.push_back(static_cast<socklen_t>(n->ai_addrlen));
      if (n->ai_ttl > 0 && (!ttl_set || static_cast<std::uint32_t>(n->ai_ttl) < ttl)) {
        ttl = static_cast<std::uint32_t>(n->ai_ttl);
        ttl_set = true;
      }
    }
  }
  ares_freeaddrinfo(ai);
  if (res.addresses.empty()) res.status = Status::not_found("no address");
  res.ttl_s = ttl;
  p->cb(res);
}

// The smallest TTL of the answer section's records (0: none), read from the raw reply (the
// c-ares 1.18 parsers do not return the TTLs of SRV and NAPTR records).
std::uint32_t min_answer_ttl(const unsigned char* abuf, int alen) {
  if (alen < 12) return 0;
  const int qd = (abuf[4] << 8) | abuf[5];
  const int an = (abuf[6] << 8) | abuf[7];
  const unsigned char* p = abuf + 12;
  const unsigned char* end = abuf + alen;
  auto skip_name = [&]() {
    char* name = nullptr;
    long len = 0;
    if (ares_expand_name(p, abuf, alen, &name, &len) != ARES_SUCCESS) return false;
    ares_free_string(name);
    p += len;
    return p <= end;
  };
  for (int i = 0; i < qd; ++i) {
    if (!skip_name() || end - p < 4) return 0;
    p += 4;  // type, class
  }
  std::uint32_t ttl = 0;
  for (int i = 0; i < an; ++i) {
    if (!skip_name() || end - p < 10) break;
    const std::uint32_t t = (std::uint32_t{p[4]} << 24) | (std::uint32_t{p[5]} << 16) | (std::uint32_t{p[6]} << 8) | p[7];
    const int rdlen = (p[8] << 8) | p[9];
    p += 10;
    if (end - p < rdlen) break;
    p += rdlen;
    if (t > 0 && (ttl == 0 || t < ttl)) ttl = t;
  }
  return ttl;
}

template <class Result>
struct PendingQuery {
  Resolver* owner;
  std::function<void(const Result&)> cb;
};

void on_srv(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<PendingQuery<Resolver::SrvResult>> p(static_cast<PendingQuery<Resolver::SrvResult>*>(arg));
  ResolverAccess::done(*p->owner);
  Resolver::SrvResult res;
  ares_srv_reply* reply = nullptr;
  if (status == ARES_SUCCESS) status = ares_parse_srv_reply(abuf, alen, &reply);
  if (status != ARES_SUCCESS) {
    res.status = lookup_failure(status);
    p->cb(res);
    return;
  }
  for (ares_srv_reply* r = reply; r != nullptr; r = r->next) {
    res.records.push_back(SrvRecord{r->priority, r->weight, r->port, r->host ? r->host : ""});
  }
  ares_free_data(reply);
  res.ttl_s = min_answer_ttl(abuf, alen);
  if (res.records.empty()) res.status = Status::not_found("no SRV record");
  p->cb(res);
}

void on_naptr(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<PendingQuery<Resolver::NaptrResult>> p(static_cast<PendingQuery<Resolver::NaptrResult>*>(arg));
  ResolverAccess::done(*p->owner);
  Resolver::NaptrResult res;
  ares_naptr_reply* reply = nullptr;
  if (status == ARES_SUCCESS) status = ares_parse_naptr_reply(abuf, alen, &reply);
  if (status != ARES_SUCCESS) {
    res.status = lookup_failure(status);
    p->cb(res);
    return;
  }
  auto text = [](const unsigned char* s) { return s ? std::string(reinterpret_cast<const char*>(s)) : std::string(); };
  for (ares_naptr_reply* r = reply; r != nullptr; r = r->next) {
    res.records.push_back(NaptrRecord{r->order, r->preference, text(r->flags), text(r->service),
                                      r->replacement ? r->replacement : ""});
  }
  ares_free_data(reply);
  res.ttl_s = min_answer_ttl(abuf, alen);
  if (res.records.empty()) res.status = Status::not_found("no NAPTR record");
  p->cb(res);
}

}  // namespace

StatusOr<std::unique_ptr<Resolver>> Resolver::create(const ResolverOptions& options) {
  static const int init = ares_library_init(ARES_LIB_INIT_ALL);
  if (init != ARES_SUCCESS) {
    return Status::internal(std::string("c-ares initialisation failed: ") + ares_strerror(init));
  }
  ares_channel ch = nullptr;
  ares_options opts{};
  opts.timeout = options.timeout_ms;
  opts.tries = options.tries;
  int rc = ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  if (rc != ARES_SUCCESS) return Status::internal(std::string("c-ares: ") + ares_strerror(rc));
  if (!options.servers.empty()) {
    rc = ares_set_servers_ports_csv(ch, options.servers.c_str());
    if (rc != ARES_SUCCESS) {
      ares_destroy(ch);
      return Status::invalid_argument("c-ares: name servers \"" + options.servers +
                                      "\": " + ares_strerror(rc));
    }
  }
  std::unique_ptr<Resolver> r(new Resolver);
  r->channel_ = ch;
  return r;
}

Resolver::~Resolver() {
  if (channel_) ares_destroy(static_cast<ares_channel>(channel_));
}

void Resolver::lookup(const std::string& host, std::uint16_t port, Callback cb) {
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  ++pending_;
  ares_getaddrinfo(static_cast<ares_channel>(channel_), host.c_str(), nullptr, &hints, on_addrinfo,
                   new Pending{this, port, std::move(cb)});
}

void Resolver::query_srv(const std::string& name, std::function<void(const SrvResult&)> cb) {
  ++pending_;
  ares_query(static_cast<ares_channel>(channel_), name.c_str(), 1 /* C_IN */, 33 /* T_SRV */, on_srv,
             new PendingQuery<SrvResult>{this, std::move(cb)});
}

void Resolver::query_naptr(const std::string& name, std::function<void(const NaptrResult&)> cb) {
  ++pending_;
  ares_query(static_cast<ares_channel>(channel_), name.c_str(), 1 /* C_IN */, 35 /* T_NAPTR */, on_naptr,
             new PendingQuery<NaptrResult>{this, std::move(cb)});
}

bool Resolver::in_hosts_file(const std::string& host) const {
  for (int family : {AF_INET, AF_INET6}) {
    hostent* h = nullptr;
    if (ares_gethostbyname_file(static_cast<ares_channel>(channel_), host.c_str(), family, &h) == ARES_SUCCESS) {
      ares_free_hostent(h);
      return true;
    }
  }
  return false;
}

std::vector<pollfd> Resolver::pollfds() const {
  ares_socket_t socks[ARES_GETSOCK_MAXNUM];
  const int bits = ares_getsock(static_cast<ares_channel>(channel_), socks, ARES_GETSOCK_MAXNUM);
  std::vector<pollfd> fds;
  for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
    short ev = 0;
    if (ARES_GETSOCK_READABLE(bits, i)) ev |= POLLIN;
    if (ARES_GETSOCK_WRITABLE(bits, i)) ev |= POLLOUT;
    if (ev) fds.push_back(pollfd{socks[i], ev, 0});
  }
  return fds;
}

int Resolver::timeout_ms(int max_ms) const {
  if (pending_ == 0) return max_ms;
  timeval maxtv{max_ms / 1000, (max_ms % 1000) * 1000};
  timeval tv{};
  timeval* t = ares_timeout(static_cast<ares_channel>(channel_), &maxtv, &tv);
  return static_cast<int>(t->tv_sec * 1000 + t->tv_usec / 1000);
}

void Resolver::process(const std::vector<pollfd>& fds) {
  auto ch = static_cast<ares_channel>(channel_);
  bool any = false;
  for (const pollfd& p : fds) {
    if (p.revents == 0) continue;
    any = true;
    ares_process_fd(ch, (p.revents & (POLLIN | POLLERR | POLLHUP)) ? p.fd : ARES_SOCKET_BAD,
                    (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD);
  }
  if (!any) ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
}

}  // namespace regfront::dns
