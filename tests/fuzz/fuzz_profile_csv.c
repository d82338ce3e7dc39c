/* Rate profiles (workload.diurnal.file and the built-in shapes): llmcap_profile_parse. */
#include "fuzz.h"

#include "llmcap/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	double hours[LLMCAP_HOURS_PER_WEEK];
	size_t n = 0;
	struct llmcap_error err = {0};
	if (llmcap_profile_parse(text, "fuzz.csv", hours, &n, &err) == 0 &&
	    n != 24 && n != LLMCAP_HOURS_PER_WEEK)
		abort();
	free(text);
	return 0;
}
