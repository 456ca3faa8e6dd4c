/*
 * b2bua_route.c: sipwarden between record-routing proxies (RFC 3261 s12.1.1, s16.12).
 * At the door it decides whether an INVITE's Record-Route can become leg A's route set
 * (route_check_invite(), through lib/sip_dialog.c's checks); when sipwarden answers that
 * INVITE with a dialog-creating response (1xx with a To tag, 2xx) it copies the
 * Record-Route into it, in order (route_echo()). Keeping the route sets and putting
 * Route headers on the requests sipwarden sends in a dialog is lib/sip_dialog.c's work;
 * which connection a request leaves on is the caller's (the leg's connection: the
 * proxy's). Not responsible for strict routing, which is refused.
 */
#include "b2bua_int.h"

#include <errno.h>

#include <osipparser2/osip_parser.h>

int
route_check_invite(const osip_message_t *req, const char **reason, const char **text)
{
	switch (sip_dialog_routes_check(req, false)) {
	case 0:
		return 0;
	case -E2BIG:
		*reason = "record_route_too_many";
		*text = "more than 8 Record-Route entries";
		return 400;
	case -EPROTONOSUPPORT:
		*reason = "record_route_strict";
		*text = "Record-Route of a strict router (no ;lr) is not supported";
		return 400;
	default:
		*reason = "record_route_invalid";
		*text = "Record-Route is not valid";
		return 400;
	}
}

int
route_echo(osip_message_t *resp, const osip_message_t *req)
{
	osip_generic_param_t *tag = NULL;
	int n = osip_list_size(&req->record_routes);

	if (!MSG_IS_INVITE(req) || resp->status_code <= 100 || resp->status_code >= 300 || n <= 0)
		return 0;
	/* dialog-creating responses only: an INVITE inside a dialog keeps its route set */
	if (req->to != NULL && osip_to_get_tag(req->to, &tag) == 0 && tag != NULL)
		return 0;
	/* checked at the door (route_check_invite); checked again rather than trusted */
	if (sip_dialog_routes_check(req, false) != 0)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		osip_record_route_t *rr = osip_list_get(&req->record_routes, i), *copy = NULL;
		if (osip_record_route_clone(rr, &copy) != OSIP_SUCCESS)
			return -ENOMEM;
		osip_list_add(&resp->record_routes, copy, -1);
	}
	return 0;
}
