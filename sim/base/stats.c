/* Interval estimates. See include/llmcap/stats.h. */
#include "llmcap/stats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>

void llmcap_mean_ci95(const double *x, size_t n, size_t stride, double *mean, double *half,
		      size_t *n_used)
{
	/* two passes, in index order: the same inputs always give the same bits */
	double sum = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i * stride])) {
			sum += x[i * stride];
			k++;
		}
	*n_used = k;
	*mean = k ? sum / (double)k : NAN;
	*half = NAN;
	if (k < 2)
		return;
	double ss = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i * stride])) {
			double d = x[i * stride] - *mean;
			ss += d * d;
		}
	double sd = sqrt(ss / (double)(k - 1));
	*half = gsl_cdf_tdist_Pinv(0.975, (double)(k - 1)) * sd / sqrt((double)k);
}
