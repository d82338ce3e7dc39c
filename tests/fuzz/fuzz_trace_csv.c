/* Length columns of trace files (dist: trace): llmcap_trace_read_columns, one and two
 * columns as a class's prompt and output read them. */
#include "fuzz.h"

#include "llmcap/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	static const char *const cols[] = {"ContextTokens", "GeneratedTokens"};
	for (size_t nc = 1; nc <= 2; nc++) {
		int32_t *v = NULL;
		size_t rows = 0;
		struct llmcap_error err = {0};
		if (llmcap_trace_read_columns(path, cols + 2 - nc, nc, &v, &rows, &err) == 0) {
			if (rows == 0)
				abort();
			for (size_t i = 0; i < rows * nc; i++)
				if (v[i] < 0)
					abort();
		}
		free(v);
	}
	return 0;
}
