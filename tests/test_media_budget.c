/*
 * test_media_budget.c: what a live call's media state may cost (issue 12: resident memory
 * per live call). The worker keeps a struct media_call per call for its life, so its size
 * is paid once per live call: a leg is held to a budget, and a call holds its two legs
 * inline and a bridge's leg C only once it is added (allocated on the control side).
 */
#include "test_media.h"

#include "media_worker.h"

/* 1,536 bytes a leg before: two rtp_stats with a latched address nobody read (128 B
 * each) and four sockaddr_storage (128 B each) for IPv4/IPv6 addresses of 16/28 */
START_TEST(media_leg_fits_its_budget)
{
	ck_assert_uint_le(sizeof(struct media_leg), 1024);
}
END_TEST

/* 4,640 bytes a call before: three legs inline, leg C unused by most calls */
START_TEST(media_call_holds_two_legs_inline_and_leg_c_only_when_added)
{
	ck_assert_uint_le(sizeof(struct media_call), 2 * sizeof(struct media_leg) + 128);
}
END_TEST

void
test_media_budget_add(TCase *tc)
{
	tcase_add_test(tc, media_leg_fits_its_budget);
	tcase_add_test(tc, media_call_holds_two_legs_inline_and_leg_c_only_when_added);
}
