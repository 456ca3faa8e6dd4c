/*
 * test_metrics.c: the Prometheus exposition (lib/metrics.c): exact sample lines, HELP
 * and TYPE once per family before its samples, histograms from call events, label
 * escaping, and what a null measurement (a direction without packets) does not add.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* Does `text` hold `line` as a whole line? */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	}
	return false;
}

#define ck_line(text, line) ck_assert_msg(has_line(text, line), "missing line: %s", line)

static json_t *
stats_fixture(void)
{
	const char *js =
	        "{\"since\":\"2026-01-01T00:00:00.000Z\",\"uptime_s\":42,"
	        "\"calls\":{\"current\":3,\"started\":10,\"by_outcome\":{\"completed\":6,"
	        "\"cancelled\":1,\"agent_gone\":2}},"
	        "\"refusals\":{\"offer_refused\":{\"no_srtp\":4,\"weak_suite\":1},"
	        "\"flood\":{\"requests\":7}},"
	        "\"drops\":{\"auth\":5,\"replay\":0,\"plaintext\":2,\"unknown_source\":1,"
	        "\"ssrc_limit\":0},"
	        "\"tls_handshakes\":{\"ok\":20,\"failed\":3},"
	        "\"telemetry\":{\"subscribers\":2,\"events\":99,\"dropped\":8,\"invalid\":0},"
	        "\"connections\":{\"open\":4,\"accepted\":30,\"refused_cap\":0,"
	        "\"idle_timeout\":1,\"framing_closed\":2,\"parse_errors\":6},"
	        "\"admission\":{\"refused_banned\":11,\"refused_source\":12,"
	        "\"refused_strangers\":13,\"refused_table\":14,\"first_request_timeout\":15,"
	        "\"bans\":16,\"scanners\":17,\"shed\":18,\"sources\":19,\"banned_now\":1,"
	        "\"bans_remote\":21},"
	        "\"cluster\":{\"instance\":\"sbc-a\",\"store_up\":1,\"instances_alive\":2,"
	        "\"admitted\":30,\"refused\":31,\"admitted_local_share\":32,"
	        "\"refused_store_failure\":33,\"timeouts\":34,\"reconnects\":35},"
	        "\"overload\":{\"loop_lag_ms\":12,\"admit_pct\":70,\"media_load_pct\":4,"
	        "\"in_setup\":2,\"shed\":9}}";
	json_error_t je;
	json_t *j = json_loads(js, 0, &je);

	ck_assert_msg(j != NULL, "fixture: %s", je.text);
	return j;
}

static char *
format(const json_t *stats, const json_t *agents, const struct metrics_calls *calls)
{
	struct metrics_snapshot s = {.stats = stats,
	                             .agents = agents,
	                             .calls = calls,
	                             .open_fds = 17,
	                             .max_fds = 1024,
	                             .rss_bytes = 123456789};
	size_t len = 0;
	char *text = metrics_format(&s, &len);

	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	return text;
}

START_TEST(metrics_counters_come_out_with_help_and_type)
{
	json_t *st = stats_fixture();
	char *t = format(st, NULL, NULL);

	ck_line(t, "# HELP sipwarden_calls_current Calls in progress (set-up or answered).");
	ck_line(t, "# TYPE sipwarden_calls_current gauge");
	ck_line(t, "sipwarden_calls_current 3");
	ck_line(t, "# TYPE sipwarden_calls_started_total counter");
	ck_line(t, "sipwarden_calls_started_total 10");
	ck_line(t, "sipwarden_uptime_seconds 42");
	ck_line(t, "# HELP sipwarden_calls_ended_total Calls ended, by outcome.");
	ck_line(t, "# TYPE sipwarden_calls_ended_total counter");
	ck_line(t, "sipwarden_calls_ended_total{outcome=\"completed\"} 6");
	ck_line(t, "sipwarden_calls_ended_total{outcome=\"cancelled\"} 1");
	/* known outcomes are there from the start, others once they happen */
	ck_line(t, "sipwarden_calls_ended_total{outcome=\"busy\"} 0");
	ck_line(t, "sipwarden_calls_ended_total{outcome=\"agent_gone\"} 2");
	ck_line(t, "# TYPE sipwarden_security_events_total counter");
	ck_line(t, "sipwarden_security_events_total{kind=\"offer_refused\",reason=\"no_srtp\"} 4");
	ck_line(t,
	        "sipwarden_security_events_total{kind=\"offer_refused\",reason=\"weak_suite\"} 1");
	ck_line(t, "sipwarden_security_events_total{kind=\"flood\",reason=\"requests\"} 7");
	ck_line(t, "sipwarden_media_dropped_packets_total{reason=\"auth\"} 5");
	ck_line(t, "sipwarden_media_dropped_packets_total{reason=\"replay\"} 0");
	ck_line(t, "sipwarden_media_dropped_packets_total{reason=\"plaintext\"} 2");
	ck_line(t, "sipwarden_tls_handshakes_total{result=\"ok\"} 20");
	ck_line(t, "sipwarden_tls_handshakes_total{result=\"failed\"} 3");
	ck_line(t, "sipwarden_telemetry_subscribers 2");
	ck_line(t, "sipwarden_telemetry_dropped_events_total 8");
	ck_line(t, "sipwarden_connections_open 4");
	ck_line(t, "sipwarden_sip_parse_errors_total 6");
	ck_line(t, "sipwarden_connections_refused_total{reason=\"banned\"} 11");
	ck_line(t, "sipwarden_connections_refused_total{reason=\"table_full\"} 14");
	ck_line(t, "sipwarden_connections_closed_total{reason=\"framing\"} 2");
	ck_line(t, "sipwarden_admission_bans_total 16");
	ck_line(t, "sipwarden_admission_remote_bans_total 21");
	ck_line(t, "sipwarden_cluster_store_up 1");
	ck_line(t, "sipwarden_cluster_instances 2");
	ck_line(t, "sipwarden_cluster_admissions_total{result=\"admitted\"} 30");
	ck_line(t, "sipwarden_cluster_admissions_total{result=\"refused\"} 31");
	ck_line(t, "sipwarden_cluster_admissions_total{result=\"admitted_local_share\"} 32");
	ck_line(t, "sipwarden_cluster_admissions_total{result=\"refused_store_failure\"} 33");
	ck_line(t, "sipwarden_cluster_timeouts_total 34");
	ck_line(t, "sipwarden_cluster_reconnects_total 35");
	ck_line(t, "sipwarden_admission_banned_sources 1");
	/* what overload admission sees now, in base units (seconds, ratios) */
	ck_line(t, "# TYPE sipwarden_overload_loop_lag_seconds gauge");
	ck_line(t, "sipwarden_overload_loop_lag_seconds 0.012");
	ck_line(t, "sipwarden_overload_admit_ratio 0.7");
	ck_line(t, "sipwarden_overload_media_load_ratio 0.04");
	ck_line(t, "sipwarden_calls_in_setup 2");
	ck_line(t, "# TYPE sipwarden_overload_shed_total counter");
	ck_line(t, "sipwarden_overload_shed_total 9");
	ck_line(t, "# TYPE process_open_fds gauge");
	ck_line(t, "process_open_fds 17");
	ck_line(t, "process_max_fds 1024");
	ck_line(t, "process_resident_memory_bytes 123456789");
	free(t);
	json_decref(st);
}
END_TEST

/* Every sample belongs to a family announced once, HELP then TYPE, before it. */
START_TEST(metrics_each_family_is_announced_once_before_its_samples)
{
	json_t *st = stats_fixture();
	json_t *ag = json_pack("{s:[{s:s,s:b,s:i,s:i}]}", "agents", "name", "a1", "up", 1, "calls",
	                       2, "calls_total", 5);
	struct metrics_calls mc;
	char *t, *save = NULL, current[128] = "";
	unsigned families = 0;

	metrics_calls_init(&mc);
	t = format(st, ag, &mc);
	ck_assert_int_eq(t[strlen(t) - 1], '\n');
	for (char *l = strtok_r(t, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		char name[128], type[32];
		if (sscanf(l, "# HELP %127s", name) == 1) {
			ck_assert_msg(strcmp(name, current) != 0, "HELP twice for %s", name);
			snprintf(current, sizeof(current), "%s", name);
			families++;
			continue;
		}
		if (sscanf(l, "# TYPE %127s %31s", name, type) == 2) {
			ck_assert_str_eq(name, current);
			ck_assert_msg(strcmp(type, "counter") != 0 ||
			                      strstr(name, "_total") == name + strlen(name) - 6,
			              "counter %s does not end in _total", name);
			continue;
		}
		ck_assert_msg(strncmp(l, current, strlen(current)) == 0,
		              "sample '%s' outside family %s", l, current);
	}
	ck_assert_uint_ge(families, 30);
	free(t);
	/* no family twice anywhere */
	t = format(st, ag, &mc);
	for (char *p = strstr(t, "# TYPE "); p != NULL; p = strstr(p + 1, "# TYPE ")) {
		char name[128], needle[160];
		ck_assert_int_eq(sscanf(p, "# TYPE %127s", name), 1);
		snprintf(needle, sizeof(needle), "# TYPE %s ", name);
		ck_assert_msg(strstr(p + 1, needle) == NULL, "family %s twice", name);
	}
	free(t);
	json_decref(ag);
	json_decref(st);
}
END_TEST

static void
observe(struct metrics_calls *mc, const char *js)
{
	json_error_t je;
	json_t *j = json_loads(js, 0, &je);

	ck_assert_msg(j != NULL, "event: %s", je.text);
	metrics_calls_observe(mc, j);
	json_decref(j);
}

#define DIR_NULL                                                                                   \
	"{\"packets\":0,\"bytes\":0,\"lost\":null,\"loss\":null,\"jitter_ms\":null,\"mos\":null}"

START_TEST(metrics_histograms_count_answers_and_ended_calls)
{
	struct metrics_calls mc;
	char *t;

	metrics_calls_init(&mc);
	observe(&mc, "{\"event\":\"call.answer\",\"setup_ms\":300}");
	observe(&mc, "{\"event\":\"call.answer\",\"setup_ms\":1500}");
	observe(&mc, "{\"event\":\"call.start\"}"); /* ignored */
	observe(&mc, "{\"event\":\"call.end\",\"legs\":{\"trunk\":{\"in\":{\"packets\":150,"
	             "\"bytes\":25800,\"lost\":2,\"loss\":0.01,\"jitter_ms\":4.0,\"mos\":4.3},"
	             "\"out\":" DIR_NULL "},\"agent\":null}}");
	t = format(NULL, NULL, &mc);
	ck_line(t, "# HELP sipwarden_call_setup_seconds Trunk INVITE to 200 OK of answered calls.");
	ck_line(t, "# TYPE sipwarden_call_setup_seconds histogram");
	ck_line(t, "sipwarden_call_setup_seconds_bucket{le=\"0.25\"} 0");
	ck_line(t, "sipwarden_call_setup_seconds_bucket{le=\"0.5\"} 1");
	ck_line(t, "sipwarden_call_setup_seconds_bucket{le=\"1\"} 1");
	ck_line(t, "sipwarden_call_setup_seconds_bucket{le=\"2\"} 2");
	ck_line(t, "sipwarden_call_setup_seconds_bucket{le=\"+Inf\"} 2");
	ck_line(t, "sipwarden_call_setup_seconds_sum 1.8");
	ck_line(t, "sipwarden_call_setup_seconds_count 2");
	ck_line(t, "# TYPE sipwarden_media_loss_ratio histogram");
	ck_line(t, "sipwarden_media_loss_ratio_bucket{leg=\"trunk\",le=\"0.005\"} 0");
	ck_line(t, "sipwarden_media_loss_ratio_bucket{leg=\"trunk\",le=\"0.01\"} 1");
	ck_line(t, "sipwarden_media_loss_ratio_bucket{leg=\"trunk\",le=\"+Inf\"} 1");
	ck_line(t, "sipwarden_media_loss_ratio_count{leg=\"trunk\"} 1");
	ck_line(t, "sipwarden_media_loss_ratio_count{leg=\"agent\"} 0");
	ck_line(t, "sipwarden_media_jitter_seconds_bucket{leg=\"trunk\",le=\"0.0025\"} 0");
	ck_line(t, "sipwarden_media_jitter_seconds_bucket{leg=\"trunk\",le=\"0.005\"} 1");
	ck_line(t, "sipwarden_media_jitter_seconds_sum{leg=\"trunk\"} 0.004");
	ck_line(t, "sipwarden_media_mos_bucket{leg=\"trunk\",le=\"4\"} 0");
	ck_line(t, "sipwarden_media_mos_bucket{leg=\"trunk\",le=\"4.3\"} 1");
	ck_line(t, "sipwarden_media_mos_sum{leg=\"trunk\"} 4.3");
	ck_line(t, "sipwarden_media_packets_total{leg=\"trunk\",direction=\"in\"} 150");
	ck_line(t, "sipwarden_media_bytes_total{leg=\"trunk\",direction=\"in\"} 25800");
	ck_line(t, "sipwarden_media_packets_total{leg=\"agent\",direction=\"out\"} 0");
	free(t);
}
END_TEST

/* A direction that carried nothing has loss/jitter/mos null: a dead-air call must not
 * show up as a perfect one in the histograms. */
START_TEST(metrics_null_measurements_are_not_observations)
{
	struct metrics_calls mc;
	char *t;

	metrics_calls_init(&mc);
	observe(&mc,
	        "{\"event\":\"call.end\",\"legs\":{\"trunk\":{\"in\":" DIR_NULL ",\"out\":" DIR_NULL
	        "},\"agent\":{\"in\":" DIR_NULL ",\"out\":" DIR_NULL "}}}");
	ck_assert_uint_eq(mc.mos[METRICS_LEG_TRUNK].count, 0);
	ck_assert_uint_eq(mc.loss[METRICS_LEG_AGENT].count, 0);
	t = format(NULL, NULL, &mc);
	ck_line(t, "sipwarden_media_mos_count{leg=\"trunk\"} 0");
	ck_line(t, "sipwarden_media_mos_bucket{leg=\"trunk\",le=\"+Inf\"} 0");
	ck_line(t, "sipwarden_media_jitter_seconds_count{leg=\"agent\"} 0");
	free(t);
}
END_TEST

START_TEST(metrics_agents_are_labelled_and_escaped)
{
	json_t *ag = json_pack("{s:[{s:s,s:b,s:i,s:i},{s:s,s:b,s:i,s:i}]}", "agents", "name",
	                       "agent-1", "up", 1, "calls", 2, "calls_total", 40, "name",
	                       "a\"b\\c\nd", "up", 0, "calls", 0, "calls_total", 1);
	char *t = format(NULL, ag, NULL);

	ck_line(t, "# TYPE sipwarden_agent_up gauge");
	ck_line(t, "sipwarden_agent_up{agent=\"agent-1\"} 1");
	ck_line(t, "sipwarden_agent_calls{agent=\"agent-1\"} 2");
	ck_line(t, "sipwarden_agent_calls_total{agent=\"agent-1\"} 40");
	ck_line(t, "sipwarden_agent_up{agent=\"a\\\"b\\\\c\\nd\"} 0");
	free(t);
	json_decref(ag);
}
END_TEST

START_TEST(metrics_unknown_process_figures_are_left_out)
{
	struct metrics_snapshot s = {.open_fds = -1, .max_fds = -1, .rss_bytes = -1};
	char *t = metrics_format(&s, NULL);

	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, "");
	free(t);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, metrics_counters_come_out_with_help_and_type);
	tcase_add_test(tc, metrics_each_family_is_announced_once_before_its_samples);
	tcase_add_test(tc, metrics_histograms_count_answers_and_ended_calls);
	tcase_add_test(tc, metrics_null_measurements_are_not_observations);
	tcase_add_test(tc, metrics_agents_are_labelled_and_escaped);
	tcase_add_test(tc, metrics_unknown_process_figures_are_left_out);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
