/* Measured step-time tables (perf_model: table): llmcap_perf_table_load, then evaluation
 * inside and outside the table in both range modes. */
#include <math.h>

#include "fuzz.h"

#include "../../models/perf_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct llmcap_perf_table *t = NULL;
	struct llmcap_error err = {0};
	if (llmcap_perf_table_load(&t, path, "fuzz: table.path", &err) == 0) {
		static const double pts[][2] = {{1, 0}, {0, 0}, {100, 1000}, {1e6, 1e7}, {8192, 0}};
		for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++)
			for (int mode = 0; mode < 2; mode++) {
				bool out = false;
				double s = llmcap_perf_table_eval(t, pts[i][0], pts[i][1],
								  mode ? LLMCAP_TABLE_EXTRAPOLATE
								       : LLMCAP_TABLE_CLAMP, &out);
				if (isnan(s))
					abort();
			}
	}
	llmcap_perf_table_free(t);
	return 0;
}
