/*
 * test_conf.h: what the files of the conf unit test (test_conf.c, test_conf_files.c,
 * test_conf_value.c: one Check suite, "conf") share: the fixture that finds tests/conf/
 * and each file's test case. Test code only.
 */
#ifndef SW_TEST_CONF_H
#define SW_TEST_CONF_H

#include <check.h>
#include <stddef.h>

#include "conf.h"

/* Every test's fixture: finds tests/conf ($SW_TESTDATA) and sets its key files' modes. */
void setup(void);
/* tests/conf/<name> into buf. */
void fixture_path(char *buf, size_t len, const char *name);
/* conf_load() of tests/conf/<name>. */
struct conf *load_fixture(const char *name, char *err, size_t errlen);

/* The test cases of test_conf_files.c ("files") and test_conf_value.c ("value"). */
TCase *conf_files_tcase(void);
TCase *conf_value_tcase(void);

#endif
