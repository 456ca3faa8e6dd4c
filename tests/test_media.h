/*
 * test_media.h: what the media engine's loopback tests share (test_media*.c, one
 * executable): the random 127.x.y.z and port range, test peers that run their own SRTP
 * with srtp_leg, RTP/RTCP packet makers, the engine fixture (one engine, one call) and an
 * event log. Defined in test_media_util.c.
 */
#ifndef SW_TEST_MEDIA_H
#define SW_TEST_MEDIA_H

#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <openssl/rand.h>

#include "media.h"
#include "monotime.h"
#include "rtcp.h"
#include "srtp_leg.h"

#define BUFSZ 2048

extern struct in_addr lo;     /* the random 127.x.y.z of this test */
extern enum media_io test_io; /* SW_MEDIA_IO, or MEDIA_IO_AUTO */
extern uint16_t range_lo;

/* A test peer: its socket(s), the keys it sends with, the relay's keys toward it. */
struct peer {
	int fd, fd_rtcp;
	struct sockaddr_storage addr, addr_rtcp;
	struct srtp_keys send_keys, recv_keys;
	struct srtp_leg *tx, *rx;
	uint16_t seq;
	uint32_t ssrc;
};

struct evlog {
	unsigned latched, first, idle, active, deleted, snapshot, error;
	struct sockaddr_storage latched_addr;
	uint64_t cookie;
	struct media_call_stats last;
};

uint32_t rnd(void);
/* a random 127.x.y.z in `lo` and port range start in `range_lo` */
void pick_loopback(void);
struct sockaddr_storage sa4(struct in_addr a, uint16_t port);
/* a UDP socket on lo with an ephemeral port */
int udp(struct sockaddr_storage *bound);
void mkkeys(struct srtp_keys *k);
void peer_new(struct peer *p, bool srtp);
void peer_free(struct peer *p);
size_t mkrtp(const struct peer *p, uint8_t *b, uint16_t seq, uint8_t fill);
size_t mkrtcp(const struct peer *p, uint8_t *b);
void sendto_port(int fd, const uint8_t *b, size_t len, uint16_t port);
/* Send one RTP packet from p (SRTP unless p->tx is NULL) to the relay port; returns seq. */
uint16_t peer_send(struct peer *p, uint16_t port, uint8_t fill);
/* Receive one datagram within timeout_ms; returns its length or -1. */
ssize_t recv_to(int fd, uint8_t *b, int timeout_ms);
unsigned drain_count(int fd, int timeout_ms);

/* the engine fixture: `eng` with one call `cid` whose legs A and B have `ports` */
extern struct media_engine *eng;
extern uint64_t cid;
extern uint16_t ports[2][2];
void engine_up(unsigned idle_s, uint16_t width);
void setup(void);
void teardown(void);
/* the worker applies commands in order: a snapshot reply means earlier ones are done */
void sync_engine(struct media_call_stats *st);
void configure(enum media_leg_id leg, const struct peer *p, bool mux, bool plain);
/* Expect one RTP packet at `to`, decrypting with to->rx (if any), with seq and fill. */
void expect_rtp(struct peer *to, uint16_t seq, uint8_t fill, const struct peer *from);
void ev_cb(const struct media_event *ev, void *arg);
/* drain events, waiting on the event fd up to timeout_ms for at least one */
void pump(struct evlog *lg, int timeout_ms);
/* Is every port of `p` free to bind again (within 2 s)? */
bool ports_free_within_2s(const uint16_t *p, int n);

/* The test cases of each file, added to the one "loopback" case of test_media.c. */
void test_media_relay_add(TCase *tc);
void test_media_events_add(TCase *tc);
void test_media_ports_add(TCase *tc);
void test_media_budget_add(TCase *tc);

#endif
