/*
 * args.c: swpeer's command line: --help text, option parsing and checks, into struct
 * opts. Exits with status 2 (and the reason) on a usage error, 0 after --help. Not
 * responsible for acting on the options (main.c and the call/media modules).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "swpeer.h"
#include "srtp_ossl.h"

static const char usage_text[] =
        "usage: swpeer call --to URI [options]      place calls (trunk side)\n"
        "       swpeer answer --listen IP:PORT --cert C --key K [options]\n"
        "                                           take calls (agent side)\n"
        "\n"
        "SIP runs over TLS only; media is SRTP (SDES, a=crypto) unless asked otherwise. Each\n"
        "call sends a known pattern: 160-byte PCMU payloads every 20 ms whose content encodes\n"
        "direction, call number and packet index, so every decrypted packet is checked exactly.\n"
        "\n"
        "call options:\n"
        "  --to URI             sip:user@IPv4[:port] or sips:... (default port 5061)\n"
        "  --ca FILE            CA to verify the server certificate (and its IP) against\n"
        "  --tls-name NAME      verify the server certificate for NAME (and send it as SNI)\n"
        "                       instead of the IP address in --to\n"
        "  --insecure           do not verify the server certificate (no --ca needed)\n"
        "  --cert C --key K     client certificate to present (mutual TLS)\n"
        "  --calls N            calls to place (default 1)\n"
        "  --concurrent M       calls in progress at once (default 1)\n"
        "  --rate R             start R calls per second instead, on a fixed schedule\n"
        "                       (open loop: --concurrent is ignored; load tools)\n"
        "  --connections K      carry the calls over K shared TLS connections (call n\n"
        "                       on connection n mod K), as a trunk does; default: one\n"
        "                       connection per call\n"
        "  --duration SECS      media time per answered call, then BYE (default 2)\n"
        "  --offer KIND         savp (default): RTP/SAVP, one a=crypto per suite, fresh keys\n"
        "                       avp: plain RTP/AVP; savp-weak: UNENCRYPTED/UNAUTHENTICATED\n"
        "                       session parameters and the F8 suite (must be refused);\n"
        "                       none: an INVITE without SDP (late offer): the 2xx carries\n"
        "                       the offer, our answer goes in the ACK\n"
        "  --ack-answer KIND    with --offer none: savp (default; our SRTP answer), avp (a\n"
        "                       plain RTP/AVP answer) or none (an ACK without SDP); the last\n"
        "                       two must make the other side end the call with a BYE\n"
        "  --peer-media KIND    what the callee sends back: echo (default; our own pattern\n"
        "                       must return intact), pattern (the callee's), none\n"
        "  --hold-after SECS    re-INVITE a=sendonly after SECS, resume after --hold-for\n"
        "  --hold-for SECS      length of the hold (default 0.5)\n"
        "  --reinvite-offer avp with --hold-after: instead of the hold, one re-INVITE whose\n"
        "                       offer is plain RTP/AVP (a downgrade attempt); the call goes\n"
        "                       on with its SRTP keys whatever the answer (reinvite_code);\n"
        "                       none: a re-INVITE without SDP, answered in the ACK;\n"
        "                       rekey: a re-INVITE offering a new key (same suite);\n"
        "                       update: an UPDATE carrying our SDP (new version, same key)\n"
        "  --options            send one OPTIONS per call instead of an INVITE (health probe;\n"
        "                       the code is checked against --expect, no media)\n"
        "  --100rel             require reliable provisional responses (Require: 100rel in\n"
        "                       the INVITE) and PRACK each new one (RFC 3262)\n"
        "  --cancel-after MS    CANCEL the INVITE after MS ms if no final answer came\n"
        "  --expect CODE        final SIP code each call must get (default 200; for 200 the\n"
        "                       media must also arrive intact)\n"
        "  --max-loss PCT       missing packets tolerated, percent (default 2; 2 always ok)\n"
        "  --accept-refer CODE  answer a REFER in the call 202, then NOTIFY sipfrag 100 and\n"
        "                       CODE (100..699; 1xx: no final status follows); without it\n"
        "                       a REFER gets 603\n"
        "\n"
        "answer options:\n"
        "  --listen IP:PORT     TLS listening address (required)\n"
        "  --cert C --key K     server certificate and key (required)\n"
        "  --ca FILE            require and verify a client certificate from this CA\n"
        "  --mode MODE          echo (default): return each verified packet re-encrypted with\n"
        "                       our own key; pattern: send our own pattern; reject=CODE: refuse\n"
        "                       every INVITE with CODE and a Warning; noanswer: ring until\n"
        "                       CANCEL; answer-plain: answer RTP/AVP without a=crypto (and echo);\n"
        "                       silent: answer, check what arrives, send no media (dead air)\n"
        "  --accept-avp         accept plain RTP offers (default: 488 with a Warning)\n"
        "                       An INVITE or re-INVITE without SDP gets our offer in the\n"
        "                       200 (fresh keys, or our current key in a call; answer-plain:\n"
        "                       plain RTP/AVP) and the answer is expected in the ACK.\n"
        "  --ring-ms N          time between 180 Ringing and 200 OK (default 50)\n"
        "  --early-media        send 183 with the SDP answer instead of 180 (same SDP in the\n"
        "                       200 OK)\n"
        "  --reliable           send the 180/183 reliably (Require: 100rel, RSeq) and the\n"
        "                       200 OK only once that provisional got its PRACK\n"
        "  --bye-after SECS     send BYE SECS after the ACK\n"
        "  --refer URI          0.5 s after the ACK send REFER with Refer-To: URI (as given);\n"
        "                       NOTIFYs are answered 200 (also with call: an agent calling\n"
        "                       out)\n"
        "  --calls N            exit after N calls (default: run until --timeout or a signal)\n"
        "\n"
        "common options:\n"
        "  --suites LIST        comma-separated suites to offer / accept, in order (default\n"
        "                       AES_CM_128_HMAC_SHA1_80,AES_256_CM_HMAC_SHA1_80,\n"
        "                       AEAD_AES_128_GCM,AEAD_AES_256_GCM,AES_CM_128_HMAC_SHA1_32,\n"
        "                       AES_256_CM_HMAC_SHA1_32 on answer; the first only on call)\n"
        "  --no-pad             write a=crypto keys without base64 = padding\n"
        "  --pattern NAME       seq (default, pseudo-random body) or tone (1 kHz mu-law body)\n"
        "  --media-ip IP        local RTP address (default: the SIP connection's address)\n"
        "  --rtp-ports LO-HI    RTP port range, even ports used (default 20000-59998)\n"
        "  --rtp-seq N          first RTP sequence number (default random; 65500 makes the\n"
        "                       sequence roll over within a call: rollover counter tests)\n"
        "  --media-stop-after SECS  send (and echo) nothing SECS after media started (caller:\n"
        "                       the 2xx; callee: the ACK) but keep the call up (inactivity\n"
        "                       tests)\n"
        "  --timeout SECS       stop everything after SECS (default 30; 0: no limit)\n"
        "  --json               one JSON object per call and a summary object\n"
        "  --tamper N           flip one bit in every Nth packet sent (negative tests: the\n"
        "                       receiver must count an auth failure and drop it)\n"
        "  --rtcp-sdes          send an SR with SDES (CNAME swpeer@<media ip>, NAME, TOOL)\n"
        "                       every 50 packets and report the SDES items received\n"
        "                       (sdes_items, sdes_foreign: not a CNAME, sdes_cname)\n"
        "  --no-rtcp-mux        no a=rtcp-mux in our SDP; RTCP from and to port + 1 whenever\n"
        "                       a side lacks rtcp-mux (with --rtcp-sdes)\n"
        "  --dtmf N             offer/answer telephone-event (RFC 4733, PT 101) and, when the\n"
        "                       peer's SDP has it too, send N events (one every 0.5 s, each\n"
        "                       2 updates + 3 end packets); report dtmf_sent, dtmf_received\n"
        "                       (distinct events, by RTP timestamp)\n"
        "  --verbose            print SIP messages on stderr (a=crypto keys masked)\n"
        "  --capture FILE       write every SIP message sent and received (plaintext) and every\n"
        "                       RTP/RTCP packet sent (before SRTP) to FILE, with time stamps:\n"
        "                       test calls only, it holds the SRTP keys (tests/fuzz seeds)\n"
        "\n"
        "setup_ms is INVITE to final response on the caller, INVITE to ACK on the callee.\n"
        "Per call: call, role, code, reason, warning, setup_ms, setup_us (the same in\n"
        "microseconds), suite, local_key_hash and\n"
        "remote_key_hash (first 8 hex of SHA-256 of key||salt, never the key), sent, received,\n"
        "ok, bad, missing, auth_fail, replay, duplicate, rtcp, reinvites, reinvite_code (final\n"
        "code of the last re-INVITE sent, 0 none), rekeys (times the peer's key changed), "
        "refer_code (final response to our REFER),\n"
        "notify_code (status of the last NOTIFY sipfrag), notifies, refers, refer_to (the\n"
        "Refer-To of a REFER received), ended_by (local or remote: who sent the\n"
        "BYE; - when none), result (pass/fail), why.\n"
        "Exit status: 0 when every call met its expectation, 1 otherwise, 2 on usage errors.\n";

static void
die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "swpeer: %s%s%s\n(see swpeer --help)\n", msg, arg ? ": " : "",
	        arg ? arg : "");
	exit(2);
}

static unsigned
parse_uint(const char *s, unsigned max, const char *what)
{
	char *e;
	unsigned long v = strtoul(s, &e, 10);

	if (e == s || *e || v > max)
		die_usage(what, s);
	return (unsigned)v;
}

static unsigned
parse_secs_ms(const char *s, const char *what)
{
	char *e;
	double v = strtod(s, &e);

	if (e == s || *e || v < 0 || v > 86400)
		die_usage(what, s);
	return (unsigned)(v * 1000 + 0.5);
}

static void
parse_hostport(const char *s, char *host, size_t hlen, uint16_t *port, uint16_t defport)
{
	const char *colon = strrchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	struct in_addr a;

	if (n == 0 || n >= hlen)
		die_usage("bad address", s);
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &a) != 1)
		die_usage("not an IPv4 address", host);
	*port = colon ? (uint16_t)parse_uint(colon + 1, 65535, "bad port") : defport;
	if (*port == 0)
		die_usage("bad port", s);
}

static void
parse_to(struct opts *o, const char *uri)
{
	const char *p = uri, *at, *end;
	char hp[160];

	if (strlen(uri) >= sizeof(o->to_uri))
		die_usage("--to too long", NULL);
	snprintf(o->to_uri, sizeof(o->to_uri), "%s", uri);
	if (strncasecmp(p, "sips:", 5) == 0)
		p += 5;
	else if (strncasecmp(p, "sip:", 4) == 0)
		p += 4;
	else
		die_usage("--to must be a sip: or sips: URI", uri);
	at = strchr(p, '@');
	if (at)
		p = at + 1;
	end = p + strcspn(p, ";?>");
	if ((size_t)(end - p) >= sizeof(hp))
		die_usage("bad --to", uri);
	memcpy(hp, p, (size_t)(end - p));
	hp[end - p] = '\0';
	parse_hostport(hp, o->to_host, sizeof(o->to_host), &o->to_port, 5061);
}

static void
parse_suites(struct opts *o, const char *list)
{
	const char *p = list;

	o->nsuites = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		enum srtp_suite s = keys_suite_by_name(p, n);

		if (s == SUITE_NONE || !keys_suite_usable(s))
			die_usage("unknown or unusable suite", p);
		if (o->nsuites < SUITE_COUNT)
			o->suites[o->nsuites++] = s;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!o->nsuites)
		die_usage("empty --suites", NULL);
}

enum {
	O_TO = 256,
	O_CA,
	O_CERT,
	O_KEY,
	O_CALLS,
	O_CONC,
	O_DUR,
	O_OFFER,
	O_SUITES,
	O_PATTERN,
	O_HOLD,
	O_HOLDFOR,
	O_CANCEL,
	O_EXPECT,
	O_JSON,
	O_TIMEOUT,
	O_LISTEN,
	O_MODE,
	O_RING,
	O_EARLY,
	O_BYE,
	O_MEDIAIP,
	O_RTPPORTS,
	O_RTPSEQ,
	O_PEERMEDIA,
	O_MAXLOSS,
	O_INSECURE,
	O_ACCEPTAVP,
	O_VERBOSE,
	O_CAPTURE,
	O_TAMPER,
	O_RTCPSDES,
	O_TLSNAME,
	O_NOPAD,
	O_OPTIONS,
	O_REL100,
	O_RELIABLE,
	O_MSTOP,
	O_REINVOFFER,
	O_ACKANSWER,
	O_NORTCPMUX,
	O_REFER,
	O_ACCEPTREFER,
	O_RATE,
	O_CONNS,
	O_DTMF,
	O_HELP,
};

static const struct option longopts[] = {
        {"to", required_argument, NULL, O_TO},
        {"ca", required_argument, NULL, O_CA},
        {"cert", required_argument, NULL, O_CERT},
        {"key", required_argument, NULL, O_KEY},
        {"calls", required_argument, NULL, O_CALLS},
        {"concurrent", required_argument, NULL, O_CONC},
        {"duration", required_argument, NULL, O_DUR},
        {"offer", required_argument, NULL, O_OFFER},
        {"suites", required_argument, NULL, O_SUITES},
        {"pattern", required_argument, NULL, O_PATTERN},
        {"hold-after", required_argument, NULL, O_HOLD},
        {"hold-for", required_argument, NULL, O_HOLDFOR},
        {"cancel-after", required_argument, NULL, O_CANCEL},
        {"expect", required_argument, NULL, O_EXPECT},
        {"json", no_argument, NULL, O_JSON},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"listen", required_argument, NULL, O_LISTEN},
        {"mode", required_argument, NULL, O_MODE},
        {"ring-ms", required_argument, NULL, O_RING},
        {"early-media", no_argument, NULL, O_EARLY},
        {"bye-after", required_argument, NULL, O_BYE},
        {"media-ip", required_argument, NULL, O_MEDIAIP},
        {"rtp-ports", required_argument, NULL, O_RTPPORTS},
        {"rtp-seq", required_argument, NULL, O_RTPSEQ},
        {"peer-media", required_argument, NULL, O_PEERMEDIA},
        {"max-loss", required_argument, NULL, O_MAXLOSS},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"accept-avp", no_argument, NULL, O_ACCEPTAVP},
        {"verbose", no_argument, NULL, O_VERBOSE},
        {"capture", required_argument, NULL, O_CAPTURE},
        {"tamper", required_argument, NULL, O_TAMPER},
        {"rtcp-sdes", no_argument, NULL, O_RTCPSDES},
        {"tls-name", required_argument, NULL, O_TLSNAME},
        {"no-pad", no_argument, NULL, O_NOPAD},
        {"options", no_argument, NULL, O_OPTIONS},
        {"100rel", no_argument, NULL, O_REL100},
        {"reliable", no_argument, NULL, O_RELIABLE},
        {"media-stop-after", required_argument, NULL, O_MSTOP},
        {"reinvite-offer", required_argument, NULL, O_REINVOFFER},
        {"ack-answer", required_argument, NULL, O_ACKANSWER},
        {"no-rtcp-mux", no_argument, NULL, O_NORTCPMUX},
        {"refer", required_argument, NULL, O_REFER},
        {"accept-refer", required_argument, NULL, O_ACCEPTREFER},
        {"rate", required_argument, NULL, O_RATE},
        {"connections", required_argument, NULL, O_CONNS},
        {"dtmf", required_argument, NULL, O_DTMF},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
};

void
swpeer_args(struct opts *o, int argc, char **argv)
{
	bool have_suites = false, calls_given = false;
	int ch;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		exit(argc < 2 ? 2 : 0);
	}
	if (strcmp(argv[1], "call") == 0)
		o->role = ROLE_CALLER;
	else if (strcmp(argv[1], "answer") == 0)
		o->role = ROLE_CALLEE;
	else
		die_usage("unknown command", argv[1]);
	o->calls = 1;
	o->concurrent = 1;
	o->duration_ms = 2000;
	o->offer = OFFER_SAVP;
	o->pattern = PATTERN_SEQ;
	o->hold_ms = 500;
	o->expect = 200;
	o->peer_media = PEER_MEDIA_ECHO;
	o->max_loss_pct = 2;
	o->dtmf = -1;
	o->mode = MODE_ECHO;
	o->ring_ms = 50;
	o->rtp_lo = 20000;
	o->rtp_hi = 59998;
	o->rtp_seq = -1;
	o->timeout_ms = 30000;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_TO:
			parse_to(o, optarg);
			break;
		case O_CA:
			o->ca = optarg;
			break;
		case O_CERT:
			o->cert = optarg;
			break;
		case O_KEY:
			o->key = optarg;
			break;
		case O_CALLS:
			o->calls = parse_uint(optarg, 1000000, "bad --calls");
			calls_given = true;
			break;
		case O_CONC:
			o->concurrent = parse_uint(optarg, 100000, "bad --concurrent");
			break;
		case O_RATE:
			o->rate = parse_uint(optarg, 100000, "bad --rate");
			break;
		case O_CONNS:
			o->connections = parse_uint(optarg, 10000, "bad --connections");
			break;
		case O_DUR:
			o->duration_ms = parse_secs_ms(optarg, "bad --duration");
			break;
		case O_OFFER:
			if (strcmp(optarg, "savp") == 0)
				o->offer = OFFER_SAVP;
			else if (strcmp(optarg, "avp") == 0)
				o->offer = OFFER_AVP;
			else if (strcmp(optarg, "savp-weak") == 0)
				o->offer = OFFER_SAVP_WEAK;
			else if (strcmp(optarg, "none") == 0)
				o->offer = OFFER_NONE;
			else
				die_usage("bad --offer", optarg);
			break;
		case O_SUITES:
			parse_suites(o, optarg);
			have_suites = true;
			break;
		case O_PATTERN:
			if (strcmp(optarg, "seq") == 0)
				o->pattern = PATTERN_SEQ;
			else if (strcmp(optarg, "tone") == 0)
				o->pattern = PATTERN_TONE;
			else
				die_usage("bad --pattern", optarg);
			break;
		case O_HOLD:
			o->hold_after_ms = parse_secs_ms(optarg, "bad --hold-after");
			break;
		case O_HOLDFOR:
			o->hold_ms = parse_secs_ms(optarg, "bad --hold-for");
			break;
		case O_REINVOFFER:
			if (strcmp(optarg, "avp") == 0)
				o->reinvite_avp = true;
			else if (strcmp(optarg, "none") == 0)
				o->reinvite_none = true;
			else if (strcmp(optarg, "rekey") == 0)
				o->reinvite_rekey = true;
			else if (strcmp(optarg, "update") == 0)
				o->reinvite_update = true;
			else
				die_usage("bad --reinvite-offer (avp, none, rekey or update)",
				          optarg);
			break;
		case O_ACKANSWER:
			if (strcmp(optarg, "savp") == 0)
				o->ack_answer = ACK_ANSWER_SAVP;
			else if (strcmp(optarg, "avp") == 0)
				o->ack_answer = ACK_ANSWER_AVP;
			else if (strcmp(optarg, "none") == 0)
				o->ack_answer = ACK_ANSWER_NONE;
			else
				die_usage("bad --ack-answer", optarg);
			break;
		case O_CANCEL:
			o->cancel_after_ms = parse_uint(optarg, 3600000, "bad --cancel-after");
			break;
		case O_EXPECT:
			o->expect = (int)parse_uint(optarg, 699, "bad --expect");
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_TIMEOUT:
			o->timeout_ms = parse_secs_ms(optarg, "bad --timeout");
			break;
		case O_LISTEN:
			parse_hostport(optarg, o->listen_host, sizeof(o->listen_host),
			               &o->listen_port, 5061);
			break;
		case O_MODE:
			if (strcmp(optarg, "echo") == 0)
				o->mode = MODE_ECHO;
			else if (strcmp(optarg, "pattern") == 0)
				o->mode = MODE_PATTERN;
			else if (strcmp(optarg, "noanswer") == 0)
				o->mode = MODE_NOANSWER;
			else if (strcmp(optarg, "answer-plain") == 0)
				o->mode = MODE_ANSWER_PLAIN;
			else if (strcmp(optarg, "silent") == 0)
				o->mode = MODE_SILENT;
			else if (strncmp(optarg, "reject=", 7) == 0) {
				o->mode = MODE_REJECT;
				o->reject_code =
				        (int)parse_uint(optarg + 7, 699, "bad reject code");
				if (o->reject_code < 300)
					die_usage("reject code must be 300..699", optarg);
			} else
				die_usage("bad --mode", optarg);
			break;
		case O_EARLY:
			o->early_media = true;
			break;
		case O_REL100:
			o->rel100 = true;
			break;
		case O_RELIABLE:
			o->reliable = true;
			break;
		case O_RING:
			o->ring_ms = parse_uint(optarg, 3600000, "bad --ring-ms");
			break;
		case O_BYE:
			o->bye_after_ms = parse_secs_ms(optarg, "bad --bye-after");
			break;
		case O_REFER:
			if (strlen(optarg) > 1024 || strpbrk(optarg, "\r\n") != NULL)
				die_usage("bad --refer (one line, at most 1024 bytes)", NULL);
			o->refer_uri = optarg;
			break;
		case O_ACCEPTREFER:
			o->accept_refer = (int)parse_uint(optarg, 699, "bad --accept-refer");
			if (o->accept_refer < 100)
				die_usage("--accept-refer code must be 100..699", optarg);
			break;
		case O_MEDIAIP: {
			struct in_addr a;

			if (inet_pton(AF_INET, optarg, &a) != 1)
				die_usage("bad --media-ip", optarg);
			snprintf(o->media_ip, sizeof(o->media_ip), "%s", optarg);
			break;
		}
		case O_RTPPORTS: {
			unsigned lo, hi;

			if (sscanf(optarg, "%u-%u", &lo, &hi) != 2 || lo < 1024 || hi > 65534 ||
			    lo + 1 >= hi)
				die_usage("bad --rtp-ports", optarg);
			o->rtp_lo = (uint16_t)lo;
			o->rtp_hi = (uint16_t)hi;
			break;
		}
		case O_RTPSEQ:
			o->rtp_seq = (int)parse_uint(optarg, 65535, "bad --rtp-seq");
			break;
		case O_PEERMEDIA:
			if (strcmp(optarg, "echo") == 0)
				o->peer_media = PEER_MEDIA_ECHO;
			else if (strcmp(optarg, "pattern") == 0)
				o->peer_media = PEER_MEDIA_PATTERN;
			else if (strcmp(optarg, "none") == 0)
				o->peer_media = PEER_MEDIA_NONE;
			else
				die_usage("bad --peer-media", optarg);
			break;
		case O_MAXLOSS:
			o->max_loss_pct = parse_uint(optarg, 100, "bad --max-loss");
			break;
		case O_INSECURE:
			o->insecure = true;
			break;
		case O_ACCEPTAVP:
			o->accept_avp = true;
			break;
		case O_CAPTURE:
			o->capture = optarg;
			break;
		case O_VERBOSE:
			o->verbose = true;
			break;
		case O_NOPAD:
			o->no_pad = true;
			break;
		case O_OPTIONS:
			o->options = true;
			break;
		case O_MSTOP:
			o->media_stop_ms = parse_secs_ms(optarg, "bad --media-stop-after");
			break;
		case O_TLSNAME:
			o->tls_name = optarg;
			break;
		case O_TAMPER:
			o->tamper = parse_uint(optarg, 1000000, "bad --tamper");
			break;
		case O_RTCPSDES:
			o->rtcp_sdes = true;
			break;
		case O_NORTCPMUX:
			o->no_rtcp_mux = true;
			break;
		case O_DTMF:
			o->dtmf = (int)parse_uint(optarg, 1000, "bad --dtmf");
			break;
		case O_HELP:
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			die_usage("bad option", NULL);
		}
	}
	if (optind != argc)
		die_usage("unexpected argument", argv[optind]);
	if (!have_suites) {
		static const enum srtp_suite all[] = {
		        SUITE_AES_CM_128_HMAC_SHA1_80, SUITE_AES_256_CM_HMAC_SHA1_80,
		        SUITE_AEAD_AES_128_GCM,        SUITE_AEAD_AES_256_GCM,
		        SUITE_AES_CM_128_HMAC_SHA1_32, SUITE_AES_256_CM_HMAC_SHA1_32,
		};

		o->nsuites = o->role == ROLE_CALLER ? 1 : sizeof(all) / sizeof(all[0]);
		memcpy(o->suites, all, o->nsuites * sizeof(all[0]));
	}
	if (o->role == ROLE_CALLEE && !calls_given)
		o->calls = 0;
	if ((o->cert == NULL) != (o->key == NULL))
		die_usage("--cert and --key go together", NULL);
	if (o->role == ROLE_CALLER) {
		if (!o->to_uri[0])
			die_usage("call needs --to", NULL);
		if (!o->ca && !o->insecure)
			die_usage("call needs --ca (or --insecure)", NULL);
		if (o->calls == 0 || o->concurrent == 0)
			die_usage("--calls and --concurrent must be at least 1", NULL);
		if (o->duration_ms == 0)
			o->duration_ms = 1;
		if (o->rate)
			o->concurrent = o->calls;
	} else {
		if (!o->listen_port)
			die_usage("answer needs --listen", NULL);
		if (!o->cert)
			die_usage("answer needs --cert and --key", NULL);
	}
}
