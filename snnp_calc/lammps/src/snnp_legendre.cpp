/* Factorised (Legendre) triplet filters for the plugin: snnp_calc/kernels/legendre.py.

   For atom i and filter k, with u_j = D_j / r_j and the monomials u^alpha = x^e0 y^e1 z^e2
   of degree n(alpha) <= L (multinomial weights w_alpha):

     M_kb,alpha = sum_{j of species b} f_kb(r_j) u_j^alpha,   T_kb = sum_{j of b} f_kb(r_j)^2,
     G_k = 1/2 sum_{b,c} sum_alpha a_{k,bc,n(alpha)} w_alpha M_kb,alpha M_kc,alpha
           - 1/2 sum_b gamma_kb T_kb,

   gamma_kb = g_{k,bb}(1), which is sum_{j<l} f f g(cos theta) with g in powers of x
   (snnp_calc/model/legendre.py). With H_kb,alpha = dG_k/dM_kb,alpha,

     dG_k/dD_j = f'(sum_alpha H u^alpha - gamma f) u_j
                 + (f / r_j)(sum_alpha H grad_u u^alpha - sum_alpha n(alpha) H u^alpha u_j).

   A filter with one readout input per degree has inputs o = k O + lambda with coefficients
   a_o = c_lambda P_lambda, each its own H_o and gamma_o from the filter's moments; the force
   is linear in (H, gamma), so the pair loop uses sum_o dR_o H_o and sum_o dR_o gamma_o. */

#include "snnp_model.h"

#include <algorithm>

namespace snnp {

void Model::finalize_legendre()
{
  const int N1 = L + 1;
  // P_lambda(x) = sum_n p[lambda][n] x^n by (n+1) P_{n+1} = (2n+1) x P_n - n P_{n-1}
  std::vector<double> p(N1 * N1, 0.0);
  p[0] = 1.0;
  if (L >= 1) p[N1 + 1] = 1.0;
  for (int n = 1; n < L; ++n)
    for (int m = 0; m <= n + 1; ++m) {
      const double up = m > 0 ? (2 * n + 1) * p[n * N1 + m - 1] : 0.0;
      p[(n + 1) * N1 + m] = (up - n * p[(n - 1) * N1 + m]) / (n + 1);
    }
  // power coefficients of input o: of sum_lambda c_lambda P_lambda, or of c_lambda P_lambda
  const int K_o = K_l * O;
  a_pow.assign(K_o * P * N1, 0.0);
  for (int o = 0; o < K_o; ++o)
    for (int q = 0; q < P; ++q)
      for (int n = 0; n < N1; ++n) {
        const double *c = &legendre_c[((o / O) * P + q) * N1];
        double s = 0.0;
        if (O == 1)
          for (int lam = 0; lam < N1; ++lam) s += c[lam] * p[lam * N1 + n];
        else
          s = c[o % O] * p[(o % O) * N1 + n];
        a_pow[(o * P + q) * N1 + n] = s;
      }
  gamma.assign(K_o * S, 0.0);
  for (int o = 0; o < K_o; ++o)
    for (int b = 0; b < S; ++b)
      for (int n = 0; n < N1; ++n) gamma[o * S + b] += a_pow[(o * P + pair_index(b, b, S)) * N1 + n];
  mono_e.clear();
  mono_n.clear();
  mono_w.clear();
  std::vector<double> fact(N1, 1.0);
  for (int n = 1; n < N1; ++n) fact[n] = fact[n - 1] * n;
  for (int n = 0; n <= L; ++n)
    for (int e0 = n; e0 >= 0; --e0)
      for (int e1 = n - e0; e1 >= 0; --e1) {
        const int e2 = n - e0 - e1;
        mono_e.insert(mono_e.end(), {e0, e1, e2});
        mono_n.push_back(n);
        mono_w.push_back(fact[n] / (fact[e0] * fact[e1] * fact[e2]));
      }
  const int N = static_cast<int>(mono_n.size());
  mono_lower.assign(3 * N, 0);
  for (int al = 0; al < N; ++al)
    for (int c = 0; c < 3; ++c) {
      if (mono_e[3 * al + c] == 0) continue;
      for (int be = 0; be < al; ++be) {
        bool lower = true;
        for (int d = 0; d < 3; ++d)
          lower = lower && mono_e[3 * be + d] == mono_e[3 * al + d] - (d == c);
        if (lower) mono_lower[3 * al + c] = be;
      }
    }
  bool vanish = true;
  legendre_cutoff = 0.0;
  for (const Spline &s : legendre_f) {
    vanish = vanish && s.vanishes_beyond_last_knot();
    legendre_cutoff = std::max(legendre_cutoff, s.last_knot());
  }
  if (!vanish) legendre_cutoff = cutoff;
  lf_by_species.clear();
  for (int b = 0; b < S; ++b) {
    std::vector<const Spline *> group;
    for (int k = 0; k < K_l; ++k) group.push_back(&legendre_f[k * S + b]);
    lf_by_species.emplace_back(group);
  }
}

// u^alpha (row 0) and grad_u u^alpha (rows 1..3) of the unit vector u into tab (4, N). Each
// entry is one product with an entry of lower degree, which comes first:
// u^alpha = u_d u^(alpha - e_d) for the first axis d with alpha_d > 0, and
// d u^alpha / d u_c = alpha_c u^(alpha - e_c) (snnp_calc/kernels/legendre.py, monomial_table).
void Model::monomial_table(const double *u, double *tab) const
{
  const int N = static_cast<int>(mono_n.size());
  tab[0] = 1.0;
  for (int al = 1; al < N; ++al) {
    const int *e = &mono_e[3 * al];
    const int d = e[0] ? 0 : (e[1] ? 1 : 2);
    tab[al] = u[d] * tab[mono_lower[3 * al + d]];
  }
  for (int c = 0; c < 3; ++c)
    for (int al = 0; al < N; ++al)
      tab[(1 + c) * N + al] = mono_e[3 * al + c] * tab[mono_lower[3 * al + c]];
}

void Model::legendre_descriptors(AtomWork &w, double *G) const
{
  const int N = static_cast<int>(mono_n.size()), N1 = L + 1;
  double *M = w.M.data(), *H = w.H.data(), *T = w.T.data();
  std::fill(M, M + K_l * S * N, 0.0);
  std::fill(T, T + K_l * S, 0.0);
  for (int p = 0; p < w.n; ++p) {
    if (w.r[p] >= legendre_cutoff) continue;
    const int b = w.species[p];
    double *f = w.lf.data() + p * K_l;
    lf_by_species[b].eval(w.r[p], f, w.dlf.data() + p * K_l);
    double *tab = w.mono.data() + 4 * N * p;
    monomial_table(w.u.data() + 3 * p, tab);
    for (int k = 0; k < K_l; ++k) {
      T[k * S + b] += f[k] * f[k];
      double *Mk = M + (k * S + b) * N;
      for (int al = 0; al < N; ++al) Mk[al] += f[k] * tab[al];
    }
  }
  for (int o = 0; o < K_l * O; ++o) {
    const int k = o / O;
    double Go = 0.0;
    for (int b = 0; b < S; ++b) {
      for (int al = 0; al < N; ++al) {
        double h = 0.0;
        for (int c = 0; c < S; ++c)
          h += a_pow[(o * P + pair_index(b, c, S)) * N1 + mono_n[al]] * M[(k * S + c) * N + al];
        h *= mono_w[al];
        H[(o * S + b) * N + al] = h;
        Go += M[(k * S + b) * N + al] * h;
      }
      Go -= gamma[o * S + b] * T[k * S + b];
    }
    G[o] = 0.5 * Go;
  }
}

void Model::legendre_forces(AtomWork &w, const double *dR) const
{
  const int N = static_cast<int>(mono_n.size());
  // per filter, the dR-weighted sums of its inputs' H and gamma
  double *He = w.He.data(), *ge = w.gamma_e.data();
  std::fill(He, He + K_l * S * N, 0.0);
  std::fill(ge, ge + K_l * S, 0.0);
  for (int o = 0; o < K_l * O; ++o) {
    const int k = o / O;
    for (int b = 0; b < S; ++b) {
      ge[k * S + b] += dR[o] * gamma[o * S + b];
      const double *h = w.H.data() + (o * S + b) * N;
      double *he = He + (k * S + b) * N;
      for (int al = 0; al < N; ++al) he[al] += dR[o] * h[al];
    }
  }
  for (int p = 0; p < w.n; ++p) {
    const double r = w.r[p];
    if (r >= legendre_cutoff) continue;
    const int b = w.species[p];
    const double *u = w.u.data() + 3 * p;
    const double *tab = w.mono.data() + 4 * N * p;
    double *dE = w.dE.data() + 3 * p;
    for (int k = 0; k < K_l; ++k) {
      const double *h = He + (k * S + b) * N;
      double s1 = 0.0, s2 = 0.0, v0 = 0.0, v1 = 0.0, v2 = 0.0;
      for (int al = 0; al < N; ++al) {
        const double x = h[al], m = tab[al];
        s1 += x * m;
        s2 += x * mono_n[al] * m;
        v0 += x * tab[N + al];
        v1 += x * tab[2 * N + al];
        v2 += x * tab[3 * N + al];
      }
      const double f = w.lf[p * K_l + k], df = w.dlf[p * K_l + k];
      const double cu = df * (s1 - ge[k * S + b] * f) - f / r * s2;
      const double cv = f / r;
      dE[0] += cu * u[0] + cv * v0;
      dE[1] += cu * u[1] + cv * v1;
      dE[2] += cu * u[2] + cv * v2;
    }
  }
}

}    // namespace snnp
