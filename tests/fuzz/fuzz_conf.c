/*
 * fuzz_conf: a configuration file as an operator (or a broken deploy script) might write
 * it -> conf_load -> conf_print. Properties: a refusal names the file and a line
 * ("path:N: ..."), and a config that loads prints. Certificates referenced by path do not
 * exist here, so most inputs that get that far fail on them: the seeds use inline paths
 * from the corpus directory's own fixtures where they can.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	char path[64], err[CONF_ERR_MAX];
	struct conf *c;
	int fd = memfd_create("fuzz.conf", 0);

	if (fd < 0)
		return 0;
	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	if ((c = conf_load(path, err, sizeof(err))) == NULL) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
	} else {
		if (devnull != NULL)
			conf_print(c, devnull);
		conf_unref(c);
	}
	close(fd);
	return 0;
}
