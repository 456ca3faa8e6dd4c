/*
 * conf_transfer.c: the transfer allow-list of a loaded config ([transfer NAME] sections
 * and the trunks' `transfer` mode): looking a destination up, the trunk a bridge
 * transfer goes through, the cross-field rules conf.c applies when the file is read, and
 * freeing the sections. Not responsible for reading the keys (conf_keys.c, conf_field.c)
 * nor for transferring anything (daemon/b2bua_transfer.c, daemon/b2bua_bridge.c).
 */
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct conf_transfer *
conf_transfer_by_match(const struct conf *c, const char *uri)
{
	for (size_t i = 0; i < c->ntransfers; i++)
		if (strcmp(c->transfers[i].match, uri) == 0)
			return &c->transfers[i];
	return NULL;
}

static int
trunk_index(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->ntrunks; i++)
		if (strcmp(c->trunks[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
conf_transfer_bridge_trunk(const struct conf *c, const struct conf_transfer *x, int from)
{
	int ti = x->trunk != NULL ? trunk_index(c, x->trunk) : from;

	if (ti < 0 || (size_t)ti >= c->ntrunks || c->trunks[ti].target.len == 0)
		return -1;
	return ti;
}

const char *
conf_transfer_check(const struct conf *c, const struct conf_transfer *x, char *buf, size_t len)
{
	int ti;

	if (x->trunk == NULL)
		return NULL;
	if ((ti = trunk_index(c, x->trunk)) < 0)
		snprintf(buf, len, "trunk: expected the name of a [trunk NAME], got '%.64s'",
		         x->trunk);
	else if (c->trunks[ti].target.len == 0)
		snprintf(buf, len,
		         "trunk: [trunk %s] has no target to place the bridge call through",
		         c->trunks[ti].name);
	else
		return NULL;
	return buf;
}

const char *
conf_transfer_check_trunk(const struct conf *c, const struct conf_trunk *t, char *buf, size_t len)
{
	/* bridge mode places calls: through this trunk's target, or each destination's own
	 * trunk; a destination with neither would be allowed and then always fail */
	if (t->transfer != TRANSFER_BRIDGE || t->target.len > 0)
		return NULL;
	for (size_t i = 0; i < c->ntransfers; i++) {
		if (c->transfers[i].trunk == NULL) {
			snprintf(buf, len,
			         "transfer = bridge: expected a target (the bridge call goes "
			         "through "
			         "it) or a trunk key in every [transfer NAME]; [transfer %s] has "
			         "none",
			         c->transfers[i].name);
			return buf;
		}
	}
	return NULL;
}

void
conf_transfers_free(struct conf *c)
{
	for (size_t i = 0; i < c->ntransfers; i++) {
		free(c->transfers[i].match);
		free(c->transfers[i].target);
		free(c->transfers[i].trunk);
	}
	free(c->transfers);
	c->transfers = NULL;
	c->ntransfers = 0;
}
