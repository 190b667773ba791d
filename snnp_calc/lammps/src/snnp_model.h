/* s-NNP model for the LAMMPS plugin: splines, readout and the energy of one atom.

   This header and snnp_model.cpp do not depend on LAMMPS. They follow
   snnp_calc/kernels.py (the reference) formula for formula:

   - Spline::eval is kernels.spline_eval (LAMMPS meam/spline semantics:
     uniform knots, clamped ends, y'' from the tridiagonal solve of
     snnp_calc/splines.py, straight lines outside the knots);
   - Model::readout is kernels.readout_eval (MLP with input scaling, or the
     s-MEAM spline U), shifted so that R_a(0) = 0;
   - Model::atom_energy is kernels.atom_terms: the descriptor G_i, the energy
     E_i = R_a(G_i) + e0_a + 1/2 sum_j phi(r_ij) and g_p = dE_i/dD_p for every
     neighbour p of atom i (D_p = r_j - r_i);
   - Model::legendre_descriptors and legendre_forces (snnp_legendre.cpp) are
     kernels/legendre.py: the factorised triplet filters through Cartesian moments.

   Units: eV and Angstrom. Array layouts are spelled out next to each member. */

#ifndef SNNP_MODEL_H
#define SNNP_MODEL_H

#include <stdexcept>
#include <string>
#include <vector>

namespace snnp {

// A malformed model document; what() names the key path and the problem.
class ModelError : public std::runtime_error {
 public:
  explicit ModelError(const std::string &message) : std::runtime_error(message) {}
};

class Spline {
 public:
  // m >= 2 uniform knots on [x0, x1], values y (m), end first derivatives d0, dN.
  Spline(double x0, double x1, const std::vector<double> &y, double d0, double dN);
  Spline() = default;    // a placeholder, not to be evaluated

  // Value at x; the first derivative goes to deriv.
  double eval(double x, double &deriv) const
  {
    const double t = x - x0_;
    // written !(t > 0) so that a NaN argument gives NaN here instead of an interval index
    if (!(t > 0.0)) {
      deriv = d0_;
      return y_[0] + d0_ * t;
    }
    if (t >= xmax_) {
      deriv = dN_;
      return y_[m_ - 1] + dN_ * (t - xmax_);
    }
    int klo = static_cast<int>(t * inv_h_);
    if (klo > m_ - 2) klo = m_ - 2;
    const int khi = klo + 1;
    const double a = khi * h_ - t;
    const double b = h_ - a;
    const double hsq = h_ * h_;
    const double y2lo = y2_[klo];
    const double y2hi = y2_[khi];
    deriv = yd_[klo] + ((3.0 * b * b - hsq) * y2hi - (3.0 * a * a - hsq) * y2lo);
    return y_[khi] - a * yd_[klo] + ((a * a - hsq) * a * y2lo + (b * b - hsq) * b * y2hi);
  }

  double last_knot() const { return x1_; }
  bool same_knots(const Spline &other) const
  {
    return x0_ == other.x0_ && x1_ == other.x1_ && m_ == other.m_;
  }
  // True when the spline is exactly 0 at and beyond its last knot (y_{M-1} = 0, dN = 0).
  bool vanishes_beyond_last_knot() const { return y_[m_ - 1] == 0.0 && dN_ == 0.0; }

 private:
  friend class SplineGroup;
  double x0_ = 0.0, x1_ = 0.0, h_ = 0.0, xmax_ = 0.0, d0_ = 0.0, dN_ = 0.0, inv_h_ = 0.0;
  int m_ = 0;
  // knot values, y''/(6h) and forward differences (y_{k+1} - y_k)/h: LAMMPS' Y, Y2, Ydelta
  std::vector<double> y_, y2_, yd_;
};

/* The splines of all filters k for one neighbour species (or species pair), evaluated
   together. When they share their knots (same x0, x1 and M, the usual case) the interval
   is found once and the coefficients are stored knot-major, [knot * K + k], so the loop
   over k vectorises; the arithmetic per spline is that of Spline::eval, operation for
   operation, so the results are the same bits. Otherwise each spline is evaluated alone. */
class SplineGroup {
 public:
  SplineGroup() = default;
  explicit SplineGroup(const std::vector<const Spline *> &splines);

  // value[k] and deriv[k] of every spline k at x.
  void eval(double x, double *value, double *deriv) const
  {
    const int K = K_;
    if (K == 1) {
      value[0] = one_.eval(x, deriv[0]);
      return;
    }
    if (!shared_) {
      for (int k = 0; k < K; ++k) value[k] = splines_[k].eval(x, deriv[k]);
      return;
    }
    const double t = x - x0_;
    if (!(t > 0.0)) {    // NaN included, as in Spline::eval
      for (int k = 0; k < K; ++k) {
        deriv[k] = d0_[k];
        value[k] = y_[k] + d0_[k] * t;
      }
      return;
    }
    if (t >= xmax_) {
      const double *y = &y_[(m_ - 1) * K];
      const double dt = t - xmax_;
      for (int k = 0; k < K; ++k) {
        deriv[k] = dN_[k];
        value[k] = y[k] + dN_[k] * dt;
      }
      return;
    }
    int klo = static_cast<int>(t * inv_h_);
    if (klo > m_ - 2) klo = m_ - 2;
    const int khi = klo + 1;
    const double a = khi * h_ - t;
    const double b = h_ - a;
    const double hsq = h_ * h_;
    // the factors of Spline::eval, evaluated in its order: ((a*a - hsq)*a)*y2lo, ...
    const double ca = (a * a - hsq) * a, cb = (b * b - hsq) * b;
    const double da = 3.0 * a * a - hsq, db = 3.0 * b * b - hsq;
    const double *yhi = &y_[khi * K];
    const double *ydlo = &yd_[klo * K];
    const double *y2lo = &y2_[klo * K], *y2hi = &y2_[khi * K];
    for (int k = 0; k < K; ++k) {
      deriv[k] = ydlo[k] + (db * y2hi[k] - da * y2lo[k]);
      value[k] = yhi[k] - a * ydlo[k] + (ca * y2lo[k] + cb * y2hi[k]);
    }
  }

 private:
  int K_ = 0, m_ = 0;
  bool shared_ = false;
  double x0_ = 0.0, h_ = 0.0, xmax_ = 0.0, inv_h_ = 0.0;
  std::vector<double> y_, y2_, yd_, d0_, dN_;
  std::vector<Spline> splines_;
  Spline one_;    // the spline of a group of one, held in place (one indirection less)
};

enum Activation { TANH = 0, SOFTPLUS = 1, SILU = 2, CELU = 3 };

// Index of the unordered species pair {b, c} among S species: (0,0), (0,1), ..., (1,1), ...
inline int pair_index(int b, int c, int S)
{
  if (b > c) {
    const int t = b;
    b = c;
    c = t;
  }
  return b * S - b * (b - 1) / 2 + c - b;
}

class Model;

// Per-atom scratch, grown as needed and reused between atoms.
struct AtomWork {
  // filled by the caller for the n neighbours p of atom i inside the cutoff:
  int n = 0;
  std::vector<int> species;    // (n) species index of neighbour p
  std::vector<double> D;       // (n, 3) r_j - r_i, Angstrom
  std::vector<double> r;       // (n) |D_p|, Angstrom
  // output: dE_i/dD_p, (n, 3), eV/Angstrom
  std::vector<double> dE;
  // internal
  std::vector<double> u, drho, dphi, f, df, gtab, G, dR, mlp, rho_values;
  std::vector<int> triplet;    // neighbours closer than the triplet cutoff
  // Legendre filters: f, f' (n, K_l); moments M (K_l, S, N_mono); H = dG_o/dM of each
  // readout input o (K_o, S, N_mono); self terms T (K_l, S); per filter the dR-weighted sums
  // of its inputs' H (K_l, S, N_mono) and gamma (K_l, S); per neighbour its monomials
  // u^alpha and their gradients (n, 4, N_mono)
  std::vector<double> lf, dlf, M, H, T, He, gamma_e, mono;
  void reserve(int n_neigh, const Model &model);
};

class Model {
 public:
  std::vector<std::string> species;
  int S = 0, P = 0, K_r = 0, K_t = 0;
  std::vector<Spline> rho;    // [k * S + b]: pair filter k, neighbour species b
  std::vector<Spline> f;      // [k * S + b]: radial triplet filter k
  std::vector<Spline> g;      // [k * P + pair_index(b, c)]: angular triplet filter k
  std::vector<Spline> phi;    // [pair_index(a, b)], empty without a pair term
  bool spline_readout = false;
  std::vector<Spline> U;      // [a], s-MEAM readout only
  Activation activation = TANH;
  std::vector<int> sizes;     // layer widths K, hidden..., 1 (MLP readout)
  std::vector<std::vector<double>> weights;    // [a]: per layer W (out x in, row-major), b
  std::vector<double> offset, scale;           // (S, K) input standardisation
  std::vector<double> e0;                      // (S) reference energies, eV
  // ZBL core repulsion (kernels/core.py): pure below core_r_in, zero from core_r_out on;
  // core_r_out = 0 without a core. z: (S) atomic numbers.
  double core_r_in = 0.0, core_r_out = 0.0;
  std::vector<double> z;
  std::vector<SplineGroup> rho_by_species, f_by_species;    // [b]: filters k of rho, f
  std::vector<SplineGroup> g_by_pair;                       // [pair_index(b, c)]: filters k of g
  // Factorised (Legendre) triplet filters of degree L (snnp_calc/model/legendre.py):
  // radial splines [k * S + b]; Legendre coefficients c [(k * P + q) * (L + 1) + lambda];
  // O readout inputs per filter (1, or L + 1 with "legendre_outputs": "degree"), input
  // o = k * O + lambda.
  int K_l = 0, L = 0, O = 1;
  std::vector<Spline> legendre_f;
  std::vector<double> legendre_c;
  double legendre_cutoff = 0.0;    // neighbours beyond it have f = 0 in every Legendre filter
  // built by finalize: power coefficients of each input a [(o * P + q) * (L + 1) + n], g_oq(1)
  // of the pairs bb [o * S + b], the monomials x^e0 y^e1 z^e2 of degree 0..L (exponents (N, 3), degree
  // (N), multinomial weight (N), row of alpha - e_c (N, 3), 0 where e_c = 0) and the radial
  // splines grouped by neighbour species
  std::vector<double> a_pow, gamma;
  std::vector<int> mono_e, mono_n, mono_lower;
  std::vector<double> mono_w;
  std::vector<SplineGroup> lf_by_species;
  double cutoff = 0.0;            // largest last knot of rho, f, phi, Legendre f
  double triplet_cutoff = 0.0;    // neighbours beyond it have f = 0 in every filter

  // K = K_r + K_t + K_l O, the readout's inputs
  int n_inputs() const { return K_r + K_t + K_l * O; }

  // Fill R0, the triplet cutoff and check consistency; call once after the fields are set.
  void finalize();

  // E_i for atom i of species a; work.n, species, D, r must be set. Writes work.dE.
  double atom_energy(int a, AtomWork &work) const;

  // R_a(G) for G of length K; writes dR/dG (K). scratch holds 3 * sum(sizes) doubles.
  double readout(int a, const double *G, double *dR, double *scratch) const;

  int mlp_scratch_size() const;

  // The Legendre filters' inputs G_o of the atom into G (K_l O); leaves M, H, T, f, f' and
  // the monomial tables in work.
  void legendre_descriptors(AtomWork &w, double *G) const;
  // Adds their part of dE/dD_p to work.dE, dR = dE/dG_o (K_l O); after legendre_descriptors.
  void legendre_forces(AtomWork &w, const double *dR) const;

 private:
  void finalize_legendre();
  void monomial_table(const double *u, double *tab) const;
  std::vector<double> R0;    // (S) raw readout at G = 0
  double raw_readout(int a, const double *G, double *dR, double *scratch) const;
};

// ZBL energy of a pair at distance r (Angstrom), eV, switched off between r_in and r_out;
// the derivative dE/dr goes to deriv. snnp_calc/kernels/core.py, operation for operation.
double zbl_switched(double z_a, double z_b, double r, double r_in, double r_out, double &deriv);

// Shortest text that reads back to x, as Python's repr (for messages).
std::string repr(double x);

// Atomic number of an element symbol, 0 if it is none.
int atomic_number(const std::string &symbol);

// Parse a JSON model document (format "snnp", versions 1 to 4; see snnp_calc/io/json_model.py).
// Throws ModelError naming the key path of anything missing or malformed.
Model parse_model_json(const std::string &text);

}    // namespace snnp

#endif
