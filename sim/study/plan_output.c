/* The break-even table (llmcap breakeven -o): one row per volume and dtype, in a file of its
 * own. See include/llmcap/plan.h and docs/hdf5-layout.md. */
#include "llmcap/plan.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llmcap/h5.h"
#include "llmcap/output.h"

#define INSERT LLMCAP_H5_INSERT

struct breakeven_row {
	double tokens_per_month;
	char dtype[16];
	int8_t feasible, slo_met;
	int64_t gpus, servers, simulations;
	int64_t replicas[LLMCAP_MAX_POOLS];
	double self_hosted_total, api_total, self_hosted_monthly, api_monthly, self_per_1m_served;
};

int llmcap_h5_write_breakeven(const char *target, bool force, const struct llmcap_scenario *sc,
			      const char *scenario_yaml, const struct llmcap_fleet *rows, size_t n,
			      struct llmcap_error *err)
{
	llmcap_h5_init();
	struct llmcap_outfile out; /* lock, temporary, commit: docs/hdf5-layout.md */
	int trc = llmcap_outfile_begin(&out, target, force, err);
	if (trc)
		return trc;
	struct breakeven_row *br = calloc(n ? n : 1, sizeof *br);
	hid_t f = H5Fcreate(out.tmp, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
	int rc = br && f >= 0 ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct llmcap_fleet *r = &rows[i];
		br[i].tokens_per_month = r->tokens_per_month;
		snprintf(br[i].dtype, sizeof br[i].dtype, "%s",
			 r->dtype >= 0 ? llmcap_dtype_name((enum llmcap_dtype)r->dtype) : "scenario");
		br[i].feasible = r->feasible;
		br[i].slo_met = r->slo_met;
		br[i].gpus = r->gpus;
		br[i].servers = r->servers;
		br[i].simulations = r->simulations;
		memcpy(br[i].replicas, r->replicas, sizeof br[i].replicas);
		br[i].self_hosted_total = r->cost.self_total;
		br[i].api_total = r->cost.api_total;
		br[i].self_hosted_monthly = r->cost.self_monthly;
		br[i].api_monthly = r->cost.api_monthly;
		br[i].self_per_1m_served = r->cost.self_per_1m_served;
	}
	if (rc == 0) {
		typedef struct breakeven_row B;
		hid_t s16 = llmcap_h5_string_type(16);
		hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(B));
		INSERT(t, "tokens_per_month", B, tokens_per_month, H5T_NATIVE_DOUBLE);
		INSERT(t, "dtype", B, dtype, s16);
		INSERT(t, "feasible", B, feasible, H5T_NATIVE_INT8);
		INSERT(t, "slo_met", B, slo_met, H5T_NATIVE_INT8);
		INSERT(t, "gpus", B, gpus, H5T_NATIVE_INT64);
		INSERT(t, "servers", B, servers, H5T_NATIVE_INT64);
		INSERT(t, "simulations", B, simulations, H5T_NATIVE_INT64);
		for (size_t p = 0; p < sc->n_pools; p++) {
			char name[LLMCAP_NAME_MAX + 16];
			snprintf(name, sizeof name, "replicas_%s", sc->pools[p].name);
			H5Tinsert(t, name, HOFFSET(B, replicas) + p * sizeof(int64_t), H5T_NATIVE_INT64);
		}
		INSERT(t, "self_hosted_total", B, self_hosted_total, H5T_NATIVE_DOUBLE);
		INSERT(t, "api_total", B, api_total, H5T_NATIVE_DOUBLE);
		INSERT(t, "self_hosted_monthly", B, self_hosted_monthly, H5T_NATIVE_DOUBLE);
		INSERT(t, "api_monthly", B, api_monthly, H5T_NATIVE_DOUBLE);
		INSERT(t, "self_per_1m_served", B, self_per_1m_served, H5T_NATIVE_DOUBLE);
		int64_t one = 1;
		rc = llmcap_h5_write_table(f, "breakeven", t, n, br) | llmcap_h5_set_units(f, "breakeven", "USD; tokens per month") |
		     llmcap_h5_attr_int(f, "format_version", LLMCAP_H5_FORMAT_VERSION) |
		     llmcap_h5_attr_string(f, "llmcap_version", LLMCAP_VERSION) |
		     llmcap_h5_attr_string(f, "scenario_yaml", scenario_yaml ? scenario_yaml : "") |
		     llmcap_h5_attr_string(f, "scenario_name", sc->name) |
		     llmcap_h5_attr_double(f, "horizon_years", sc->cost.horizon_years) |
		     llmcap_h5_attr_num(f, "complete", H5T_NATIVE_INT64, &one);
		H5Tclose(t);
		H5Tclose(s16);
	}
	if (f >= 0 && rc == 0 && H5Fflush(f, H5F_SCOPE_GLOBAL) < 0)
		rc = -1;
	int e = errno;
	char why[160] = "";
	if (rc != 0)
		llmcap_h5_why(why, sizeof why, e);
	if (f >= 0 && rc != 0)
		llmcap_h5_discard(f);
	else if (f >= 0 && H5Fclose(f) < 0)
		rc = -1;
	free(br);
	if (rc != 0) {
		llmcap_outfile_end(&out);
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot write HDF5 output%s%s", target,
				     why[0] ? ": " : "", why);
	}
	rc = llmcap_outfile_commit(&out, err);
	llmcap_outfile_end(&out);
	return rc;
}
