/* s-NNP evaluation for the LAMMPS plugin (see snnp_model.h).

   Every formula mirrors snnp_calc/kernels/ and snnp_calc/model/splines.py,
   including the order of floating-point operations where it is cheap to
   keep, so that the plugin agrees with the Python calculator to round-off. */

#include "snnp_model.h"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>

namespace snnp {

/* Second derivatives of a clamped cubic spline on uniform knots: the
   tridiagonal solve of snnp_calc.splines.second_derivatives (Numerical
   Recipes 3rd ed. §3.3, as LAMMPS SplineFunction::prepareSpline writes it). */
static std::vector<double> second_derivatives(double x0, double x1, const std::vector<double> &y,
                                              double d0, double dN)
{
  const int m = static_cast<int>(y.size());
  const double h = (x1 - x0) / (m - 1);
  std::vector<double> y2(m), u(m);
  y2[0] = -0.5;
  u[0] = (3.0 / h) * ((y[1] - y[0]) / h - d0);
  for (int i = 1; i < m - 1; ++i) {
    // on uniform knots sig = 1/2 exactly
    const double p = 0.5 * y2[i - 1] + 2.0;
    y2[i] = -0.5 / p;
    u[i] = (y[i + 1] - y[i]) / h - (y[i] - y[i - 1]) / h;
    u[i] = (6.0 * u[i] / (2.0 * h) - 0.5 * u[i - 1]) / p;
  }
  const double un = (3.0 / h) * (dN - (y[m - 1] - y[m - 2]) / h);
  y2[m - 1] = (un - 0.5 * u[m - 2]) / (0.5 * y2[m - 2] + 1.0);
  for (int k = m - 2; k >= 0; --k) y2[k] = y2[k] * y2[k + 1] + u[k];
  return y2;
}

std::string repr(double x)
{
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof(buffer), x).ptr;
  return std::string(buffer, end);
}

int atomic_number(const std::string &symbol)
{
  static const char *symbols[] = {
      "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl",
      "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
      "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd",
      "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu",
      "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt",
      "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np",
      "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs",
      "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};
  for (int k = 0; k < static_cast<int>(sizeof(symbols) / sizeof(symbols[0])); ++k)
    if (symbol == symbols[k]) return k + 1;
  return 0;
}

/* snnp_calc.model.splines.check_spacing, operation for operation: the knot spacing must be a
   normal float64 (1/h finite, so the interval index t/h stays in range) and the table's
   coefficients, below 64 (max|y| + max|d|) max(1, 1/h)^3, must not overflow. */
static void check_spacing(double x0, double x1, const std::vector<double> &y, double d0, double dN)
{
  const int m = static_cast<int>(y.size());
  const double h = (x1 - x0) / (m - 1);
  if (!(std::isfinite(h) && h >= DBL_MIN))
    throw ModelError("degenerate knot spacing h = (x1 - x0) / (M - 1) = " + repr(h) + " (x0 = " +
                     repr(x0) + ", x1 = " + repr(x1) + ", M = " + std::to_string(m) +
                     "); expected a normal float64 between " + repr(DBL_MIN) +
                     " and the float64 maximum");
  const double s = std::max(1.0, 1.0 / h);
  double y_max = 0.0;
  for (double v : y) y_max = std::max(y_max, std::fabs(v));
  const double bound = 64.0 * (y_max + std::max(std::fabs(d0), std::fabs(dN))) * s * s * s;
  if (!std::isfinite(bound))
    throw ModelError("values and end slopes too large for the knot spacing h = " + repr(h) +
                     ": the spline's coefficients (up to max|y| / h^3) would overflow float64");
}

Spline::Spline(double x0, double x1, const std::vector<double> &y, double d0, double dN) :
    x0_(x0), x1_(x1), d0_(d0), dN_(dN), m_(static_cast<int>(y.size())), y_(y)
{
  if (m_ < 2) throw ModelError("a spline needs at least 2 knots");
  if (!(x1 > x0)) throw ModelError("spline knots must increase (x1 > x0)");
  check_spacing(x0, x1, y, d0, dN);
  h_ = (x1 - x0) / (m_ - 1);
  xmax_ = x1 - x0;
  inv_h_ = 1.0 / h_;
  y2_ = second_derivatives(x0, x1, y, d0, dN);
  for (double &v : y2_) v /= 6.0 * h_;
  yd_.assign(m_, 0.0);
  for (int k = 0; k < m_ - 1; ++k) yd_[k] = (y_[k + 1] - y_[k]) / h_;
}

SplineGroup::SplineGroup(const std::vector<const Spline *> &splines) :
    K_(static_cast<int>(splines.size()))
{
  shared_ = K_ > 0;
  for (const Spline *s : splines) {
    splines_.push_back(*s);
    shared_ = shared_ && s->same_knots(*splines[0]);
  }
  if (K_ == 1) one_ = *splines[0];
  if (!shared_) return;
  const Spline &first = *splines[0];
  m_ = first.m_;
  x0_ = first.x0_;
  h_ = first.h_;
  xmax_ = first.xmax_;
  inv_h_ = first.inv_h_;
  y_.resize(m_ * K_);
  y2_.resize(m_ * K_);
  yd_.resize(m_ * K_);
  for (int k = 0; k < K_; ++k) {
    d0_.push_back(splines[k]->d0_);
    dN_.push_back(splines[k]->dN_);
    for (int q = 0; q < m_; ++q) {
      y_[q * K_ + k] = splines[k]->y_[q];
      y2_[q * K_ + k] = splines[k]->y2_[q];
      yd_[q * K_ + k] = splines[k]->yd_[q];
    }
  }
}

/* Activation sigma(z) and sigma'(z) (kernels.activation). */
static inline double activate(double z, int kind, double &deriv)
{
  if (kind == TANH) {
    const double t = std::tanh(z);
    deriv = 1.0 - t * t;
    return t;
  }
  if (kind == CELU) {
    if (z > 0.0) {
      deriv = 1.0;
      return z;
    }
    const double e = std::exp(z);
    deriv = e;
    return e - 1.0;
  }
  // the logistic sigmoid, written to avoid overflow for large |z|
  const double sig = z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
  if (kind == SOFTPLUS) {
    deriv = sig;
    return std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z)));
  }
  deriv = sig * (1.0 + z * (1.0 - sig));    // silu z sigmoid(z)
  return z * sig;
}

void AtomWork::reserve(int n_neigh, const Model &model)
{
  const int K_r = model.K_r, K_t = model.K_t, K_l = model.K_l;
  const int K = model.n_inputs();
  const size_t cap = std::max(n_neigh, 1);
  if (species.size() < cap) {
    species.resize(cap);
    triplet.resize(cap);
    r.resize(cap);
    dphi.resize(cap);
    D.resize(3 * cap);
    dE.resize(3 * cap);
    u.resize(3 * cap);
  }
  if (drho.size() < cap * K_r) drho.resize(cap * K_r);
  if (f.size() < cap * K_t) {
    f.resize(cap * K_t);
    df.resize(cap * K_t);
  }
  // angular values and slopes of every triplet (j < l) of the atom, kept between passes
  const size_t n_trip = cap * (cap - 1) / 2;
  if (gtab.size() < n_trip * 2 * K_t) gtab.resize(n_trip * 2 * K_t);
  if (G.size() < static_cast<size_t>(K)) {
    G.resize(K);
    dR.resize(K);
    rho_values.resize(K);
  }
  const size_t mlp_size = model.mlp_scratch_size();
  if (mlp.size() < mlp_size) mlp.resize(mlp_size);
  if (K_l > 0) {
    if (lf.size() < cap * K_l) {
      lf.resize(cap * K_l);
      dlf.resize(cap * K_l);
    }
    const size_t n_moments = K_l * model.S * model.mono_n.size();
    if (M.size() < n_moments) {
      M.resize(n_moments);
      He.resize(n_moments);
      H.resize(n_moments * model.O);
    }
    T.resize(K_l * model.S);
    gamma_e.resize(K_l * model.S);
    const size_t n_table = cap * 4 * model.mono_n.size();
    if (mono.size() < n_table) mono.resize(n_table);
  }
}

int Model::mlp_scratch_size() const
{
  int total = 0;
  for (int w : sizes) total += w;
  return 3 * total;
}

/* N_a(G) (MLP, kernels.mlp_eval) or U_a(G_rho + G_t), without the shift by the value at 0. */
double Model::raw_readout(int a, const double *G, double *dR, double *scratch) const
{
  const int K = n_inputs();
  if (spline_readout) {
    double deriv;
    const double value = U[a].eval(G[0] + G[1], deriv);
    dR[0] = deriv;
    dR[1] = deriv;
    return value;
  }
  const int n_layers = static_cast<int>(sizes.size()) - 1;
  int total = 0;
  for (int w : sizes) total += w;
  double *a_h = scratch;
  double *z_h = scratch + total;
  double *delta_h = scratch + 2 * total;
  const double *w = weights[a].data();
  const double *off = offset.data() + a * K;
  const double *sc = scale.data() + a * K;
  for (int q = 0; q < K; ++q) a_h[q] = (G[q] - off[q]) / sc[q];
  int a_off = 0, w_off = 0;
  for (int l = 0; l < n_layers; ++l) {
    const int n_in = sizes[l], n_out = sizes[l + 1];
    const int o_off = a_off + n_in;
    for (int o = 0; o < n_out; ++o) {
      double z = w[w_off + n_out * n_in + o];
      for (int q = 0; q < n_in; ++q) z += w[w_off + o * n_in + q] * a_h[a_off + q];
      // z_h keeps sigma'(z) for the backward pass
      if (l < n_layers - 1) {
        a_h[o_off + o] = activate(z, activation, z_h[o_off + o]);
      } else {
        a_h[o_off + o] = z;
        z_h[o_off + o] = 1.0;
      }
    }
    a_off = o_off;
    w_off += n_out * n_in + n_out;
  }
  const double out = a_h[a_off];
  // backward: delta_h holds dN/dz of the current layer's outputs
  delta_h[a_off] = 1.0;
  for (int l = n_layers - 1; l >= 0; --l) {
    const int n_in = sizes[l], n_out = sizes[l + 1];
    w_off -= n_out * n_in + n_out;
    const int i_off = a_off - n_in;
    for (int q = 0; q < n_in; ++q) {
      double s = 0.0;
      for (int o = 0; o < n_out; ++o) s += w[w_off + o * n_in + q] * delta_h[a_off + o];
      if (l > 0) s *= z_h[i_off + q];
      delta_h[i_off + q] = s;
    }
    a_off = i_off;
  }
  for (int q = 0; q < K; ++q) dR[q] = delta_h[q] / sc[q];
  return out;
}

double Model::readout(int a, const double *G, double *dR, double *scratch) const
{
  return raw_readout(a, G, dR, scratch) - R0[a];
}

void Model::finalize()
{
  const int K = n_inputs();
  cutoff = 0.0;
  for (const auto *set : {&rho, &f, &phi, &legendre_f})
    for (const Spline &s : *set) cutoff = std::max(cutoff, s.last_knot());
  // Where every f ends with value and slope 0, f vanishes beyond its last knot, so
  // farther neighbours add exactly nothing to any triplet term.
  bool vanish = true;
  double f_end = 0.0;
  for (const Spline &s : f) {
    vanish = vanish && s.vanishes_beyond_last_knot();
    f_end = std::max(f_end, s.last_knot());
  }
  triplet_cutoff = vanish ? f_end : cutoff;
  rho_by_species.clear();
  f_by_species.clear();
  g_by_pair.clear();
  for (int b = 0; b < S; ++b) {
    std::vector<const Spline *> rho_b, f_b;
    for (int k = 0; k < K_r; ++k) rho_b.push_back(&rho[k * S + b]);
    for (int k = 0; k < K_t; ++k) f_b.push_back(&f[k * S + b]);
    rho_by_species.emplace_back(rho_b);
    f_by_species.emplace_back(f_b);
  }
  for (int q = 0; q < P; ++q) {
    std::vector<const Spline *> g_q;
    for (int k = 0; k < K_t; ++k) g_q.push_back(&g[k * P + q]);
    g_by_pair.emplace_back(g_q);
  }
  finalize_legendre();
  R0.assign(S, 0.0);
  std::vector<double> zero(K, 0.0), grad(K), scratch(std::max(mlp_scratch_size(), 1));
  for (int a = 0; a < S; ++a) R0[a] = raw_readout(a, zero.data(), grad.data(), scratch.data());
}

double zbl_switched(double z_a, double z_b, double r, double r_in, double r_out, double &deriv)
{
  // Ziegler, Biersack and Littmark (1985) universal screening; constants of LAMMPS pair zbl
  static const double c[4] = {0.18175, 0.50986, 0.28022, 0.02817};
  static const double d[4] = {3.19980, 0.94229, 0.40290, 0.20162};
  if (r >= r_out) {
    deriv = 0.0;
    return 0.0;
  }
  const double inv_a = (std::pow(z_a, 0.23) + std::pow(z_b, 0.23)) / 0.46850;
  const double x = r * inv_a;
  double phi = 0.0, dphi = 0.0;
  for (int q = 0; q < 4; ++q) {
    const double e = c[q] * std::exp(-d[q] * x);
    phi += e;
    dphi -= d[q] * inv_a * e;
  }
  const double k = 14.399645 * z_a * z_b;
  const double energy = k * phi / r;
  deriv = k * (dphi / r - phi / (r * r));
  if (r <= r_in) return energy;
  const double w = r_out - r_in;
  const double t = (r - r_in) / w;
  const double s = 1.0 - t * t * t * (10.0 - 15.0 * t + 6.0 * t * t);
  const double ds = -30.0 * t * t * (1.0 - t) * (1.0 - t) / w;
  deriv = deriv * s + energy * ds;
  return energy * s;
}

/* kernels.atom_terms for one atom. Chain rule through the filters (Lenosky et
   al., MSMSE 8, 825 (2000)): with c = u_j . u_l, dc/dD_j = (u_l - c u_j) / r_j. */
double Model::atom_energy(int a, AtomWork &w) const
{
  const int n = w.n;
  const int K = n_inputs();
  const int *b_p = w.species.data();
  const double *D = w.D.data();
  const double *r = w.r.data();
  double *u = w.u.data();
  double *drho = w.drho.data();
  double *dphi = w.dphi.data();
  double *fv = w.f.data();
  double *dfv = w.df.data();
  double *gtab = w.gtab.data();
  double *G = w.G.data();
  double *dR = w.dR.data();
  double *dE = w.dE.data();
  int *trip = w.triplet.data();
  const bool has_phi = !phi.empty();

  for (int k = 0; k < K; ++k) G[k] = 0.0;
  double e_pair = 0.0;
  int nt = 0;
  double *rho_v = w.rho_values.data();
  for (int p = 0; p < n; ++p) {
    for (int c = 0; c < 3; ++c) u[3 * p + c] = D[3 * p + c] / r[p];
    const int b = b_p[p];
    rho_by_species[b].eval(r[p], rho_v, drho + p * K_r);
    for (int k = 0; k < K_r; ++k) G[k] += rho_v[k];
    dphi[p] = 0.0;
    if (has_phi) {
      double d;
      // each unordered pair appears twice in the full list
      e_pair += 0.5 * phi[pair_index(a, b, S)].eval(r[p], d);
      dphi[p] = 0.5 * d;
    }
    if (r[p] < core_r_out) {
      double d;
      e_pair += 0.5 * zbl_switched(z[a], z[b], r[p], core_r_in, core_r_out, d);
      dphi[p] += 0.5 * d;
    }
    if (K_t > 0 && r[p] < triplet_cutoff) {
      f_by_species[b].eval(r[p], fv + nt * K_t, dfv + nt * K_t);
      trip[nt++] = p;
    }
  }

  // One triplet term per filter and unordered neighbour pair j > l. With one triplet
  // filter (s-MEAM) the sum lives in a register: the same additions in the same order.
  double G_single = K_t == 1 ? G[K_r] : 0.0;
  int t = 0;
  for (int jj = 0; jj < nt; ++jj) {
    const double *uj = u + 3 * trip[jj];
    const int bj = b_p[trip[jj]];
    for (int ll = 0; ll < jj; ++ll) {
      const double *ul = u + 3 * trip[ll];
      const double cos = uj[0] * ul[0] + uj[1] * ul[1] + uj[2] * ul[2];
      double *gt = gtab + 2 * K_t * t;
      g_by_pair[pair_index(bj, b_p[trip[ll]], S)].eval(cos, gt, gt + K_t);
      const double *fj = fv + jj * K_t, *fl = fv + ll * K_t;
      if (K_t == 1)
        G_single += fj[0] * fl[0] * gt[0];
      else
        for (int k = 0; k < K_t; ++k) G[K_r + k] += fj[k] * fl[k] * gt[k];
      ++t;
    }
  }
  if (K_t == 1) G[K_r] = G_single;
  if (K_l > 0) legendre_descriptors(w, G + K_r + K_t);

  const double energy = readout(a, G, dR, w.mlp.data()) + e0[a] + e_pair;

  for (int p = 0; p < n; ++p) {
    double s = dphi[p];
    for (int k = 0; k < K_r; ++k) s += dR[k] * drho[p * K_r + k];
    for (int c = 0; c < 3; ++c) dE[3 * p + c] = s * u[3 * p + c];
  }
  t = 0;
  for (int jj = 0; jj < nt; ++jj) {
    const int pj = trip[jj];
    const double *uj = u + 3 * pj;
    for (int ll = 0; ll < jj; ++ll) {
      const int pl = trip[ll];
      const double *ul = u + 3 * pl;
      const double cos = uj[0] * ul[0] + uj[1] * ul[1] + uj[2] * ul[2];
      const double *gt = gtab + 2 * K_t * t;
      double A_j = 0.0, A_l = 0.0, B = 0.0;
      for (int k = 0; k < K_t; ++k) {
        const double gv = gt[k], gd = gt[K_t + k], wk = dR[K_r + k];
        const double fj = fv[jj * K_t + k], fl = fv[ll * K_t + k];
        A_j += wk * dfv[jj * K_t + k] * fl * gv;
        A_l += wk * fj * dfv[ll * K_t + k] * gv;
        B += wk * fj * fl * gd;
      }
      const double Bj = B / r[pj];
      const double Bl = B / r[pl];
      for (int c = 0; c < 3; ++c) {
        dE[3 * pj + c] += A_j * uj[c] + Bj * (ul[c] - cos * uj[c]);
        dE[3 * pl + c] += A_l * ul[c] + Bl * (uj[c] - cos * ul[c]);
      }
      ++t;
    }
  }
  if (K_l > 0) legendre_forces(w, dR + K_r + K_t);
  return energy;
}

}    // namespace snnp
