/* Multi-LoRA (classes.NAME.lora, pools.NAME.lora). */
#include "test_util.h"

#include "llmcap/perf.h"
#include "llmcap/scenario.h"
#include "llmcap/sim.h"

static struct llmcap_catalog cat;

static int setup(void **state)
{
	(void)state;
	struct llmcap_error err = {0};
	return llmcap_catalog_load_builtin(&cat, &err);
}

/* Llama-3.1-8B (hidden 4096, 32 heads and 8 KV heads of 128, MLP 14336, 32 layers), rank 16:
 * q 4096 + 4096, k and v 4096 + 1024 each, o 4096 + 4096: 26,624 per layer, x 16 x 32 =
 * 13,631,488 parameters, 27,262,976 bytes in bf16; all-linear adds gate and up 4096 + 14336
 * each and down 14336 + 4096: 81,920 per layer. */
static void adapter_size_by_hand(void **state)
{
	(void)state;
	const struct llmcap_model_spec *m = llmcap_catalog_model(&cat, "llama-3.1-8b");
	assert_rel(llmcap_lora_adapter_params(m, 16, LLMCAP_LORA_ATTENTION), 13631488, 0);
	assert_rel(llmcap_lora_adapter_bytes(m, 16, LLMCAP_LORA_ATTENTION), 27262976, 0);
	assert_rel(llmcap_lora_adapter_params(m, 16, LLMCAP_LORA_QV), 16.0 * 32 * (8192 + 5120), 0);
	assert_rel(llmcap_lora_adapter_params(m, 8, LLMCAP_LORA_ALL_LINEAR), 8.0 * 32 * 81920, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(adapter_size_by_hand),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
