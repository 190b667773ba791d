/* pair_style snnp (see pair_snnp.h). */

#include "pair_snnp.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "update.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <cstring>
#include <fstream>
#include <sstream>

#if defined(_OPENMP)
#include <omp.h>
#endif

using namespace LAMMPS_NS;

// Pairs closer than this (Angstrom) are coincident atoms, as in snnp_calc.potential.
static constexpr double MIN_DISTANCE = 1e-6;

PairSNNP::PairSNNP(LAMMPS *lmp) : Pair(lmp)
{
  single_enable = 0;
  restartinfo = 0;
  one_coeff = 0;    // pair_coeff is checked here, with a message that says what is expected
  manybody_flag = 1;
  // The virial is tallied from the pair vectors exactly as snnp_calc does, not by f.r.
  no_virial_fdotr_compute = 1;
  centroidstressflag = CENTROID_NOTAVAIL;
}

PairSNNP::~PairSNNP()
{
  if (copymode) return;
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
  }
}

void PairSNNP::allocate()
{
  allocated = 1;
  const int n = atom->ntypes;
  memory->create(setflag, n + 1, n + 1, "pair:setflag");
  memory->create(cutsq, n + 1, n + 1, "pair:cutsq");
  for (int i = 1; i <= n; ++i)
    for (int j = 1; j <= n; ++j) setflag[i][j] = 0;
}

void PairSNNP::settings(int narg, char **arg)
{
  if (narg != 0)
    error->all(FLERR, "Pair style snnp takes no arguments (got '{}'); the model file goes to "
               "pair_coeff * * MODEL.json El1 El2 ...", arg[0]);
}

/* The model file's text, read on rank 0 and broadcast; every rank gets the same error. */
std::string PairSNNP::read_text(const std::string &path)
{
  std::string text, problem;
  if (comm->me == 0) {
    const std::string found = utils::get_potential_file_path(path);
    std::ifstream in(found.empty() ? path : found, std::ios::binary);
    if (!in) {
      problem = fmt::format("Cannot open snnp model file {}: {}", path, utils::getsyserror());
    } else {
      std::ostringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
      if (in.bad()) problem = fmt::format("Cannot read snnp model file {}", path);
    }
  }
  long sizes[2] = {static_cast<long>(text.size()), static_cast<long>(problem.size())};
  MPI_Bcast(sizes, 2, MPI_LONG, 0, world);
  text.resize(sizes[0]);
  problem.resize(sizes[1]);
  if (sizes[0] > 0) MPI_Bcast(&text[0], static_cast<int>(sizes[0]), MPI_CHAR, 0, world);
  if (sizes[1] > 0) MPI_Bcast(&problem[0], static_cast<int>(sizes[1]), MPI_CHAR, 0, world);
  if (!problem.empty()) error->all(FLERR, problem);
  return text;
}

void PairSNNP::coeff(int narg, char **arg)
{
  const int ntypes = atom->ntypes;
  if (narg < 3 || strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "Pair style snnp needs 'pair_coeff * * MODEL.json El1 ... El{}' (one "
               "element symbol or NULL per atom type); got 'pair_coeff {}'", ntypes,
               utils::join_words(std::vector<std::string>(arg, arg + narg), " "));
  if (narg != 3 + ntypes)
    error->all(FLERR, "pair_coeff * * {} for pair style snnp: expected {} element symbol(s) or NULL "
               "(one per atom type), got {}", arg[2], ntypes, narg - 3);

  const std::string path = arg[2];
  const std::string text = read_text(path);
  std::string problem;
  auto parsed = std::make_unique<snnp::Model>();
  // An exception escaping into LAMMPS would abort every rank: each becomes a LAMMPS error.
  try {
    *parsed = snnp::parse_model_json(text);
  } catch (const snnp::ModelError &err) {
    problem = err.what();
  } catch (const std::exception &err) {
    problem = std::string("cannot read the model: ") + err.what();
  }
  if (!problem.empty()) error->all(FLERR, "snnp model file {}: {}", path, problem);

  std::vector<int> mapping(ntypes + 1, -1);
  for (int t = 1; t <= ntypes; ++t) {
    const std::string el = arg[2 + t];
    if (el == "NULL") continue;
    for (int a = 0; a < parsed->S; ++a)
      if (parsed->species[a] == el) mapping[t] = a;
    if (mapping[t] < 0)
      error->all(FLERR, "pair_coeff: element {} (atom type {}) is not in snnp model file {} "
                 "(species: {})", el, t, path, utils::join_words(parsed->species, ", "));
  }
  if (!allocated) allocate();
  int count = 0;
  for (int i = 1; i <= ntypes; ++i)
    for (int j = 1; j <= ntypes; ++j) {
      setflag[i][j] = (mapping[i] >= 0 && mapping[j] >= 0) ? 1 : 0;
      count += setflag[i][j];
    }
  if (count == 0) error->all(FLERR, "pair_coeff * * {}: every atom type is NULL", path);
  model = std::move(parsed);
  model_file = path;
  species_of_type = mapping;
  if (comm->me == 0)
    utils::logmesg(lmp, "snnp: read {}: {} species ({}), {} pair + {} triplet + {} Legendre "
                   "(L = {}) filters, {} readout, cutoff {} A, triplet cutoff {} A, Legendre "
                   "cutoff {} A\n", path, model->S, utils::join_words(model->species, " "),
                   model->K_r, model->K_t, model->K_l, model->L,
                   model->spline_readout ? "spline (s-MEAM)" : "MLP", model->cutoff,
                   model->triplet_cutoff, model->legendre_cutoff);
}

void PairSNNP::init_style()
{
  if (!model) error->all(FLERR, "Pair style snnp: pair_coeff * * MODEL.json El... has not been given");
  if (force->newton_pair == 0)
    error->all(FLERR, "Pair style snnp requires newton pair on (forces on ghost atoms are summed "
               "by reverse communication); remove 'newton off' from the input");
  if (strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR, "Pair style snnp requires units metal (model file {} is in eV and Angstrom), "
               "got units {}", model_file, update->unit_style);
  neighbor->add_request(this, NeighConst::REQ_FULL);
}

double PairSNNP::init_one(int, int)
{
  return model ? model->cutoff : 0.0;
}

void PairSNNP::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);
  const int nthreads = std::max(1, comm->nthreads);
  const int nall = atom->nlocal + atom->nghost;
  if (threads.size() < static_cast<size_t>(nthreads)) threads.resize(nthreads);
  const double cutsq_all = model->cutoff * model->cutoff;
  const int inum = list->inum;
  const int *ilist = list->ilist;
  int team = 1;    // the threads the runtime gave (OMP_DYNAMIC may give fewer than asked)

#if defined(_OPENMP)
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
#endif
  {
#if defined(_OPENMP)
    const int t = omp_get_thread_num();
#pragma omp single
    team = omp_get_num_threads();
#else
    const int t = 0;
#endif
    Thread &th = threads[t];
    th.energy = 0.0;
    for (double &v : th.virial) v = 0.0;
    th.error.clear();
    // thread 0 adds to LAMMPS' arrays; the others to their own, summed after the loop
    double *f = &atom->f[0][0];
    double *vatom_t = vflag_atom ? &vatom[0][0] : nullptr;
    if (t > 0) {
      th.f.assign(3 * static_cast<size_t>(nall), 0.0);
      f = th.f.data();
      if (vflag_atom) {
        th.vatom.assign(6 * static_cast<size_t>(nall), 0.0);
        vatom_t = th.vatom.data();
      }
    }
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
    for (int ii = 0; ii < inum; ++ii) {
      if (!th.error.empty()) continue;
      // nothing may leave an OpenMP region by an exception: keep it, raise it after
      try {
        compute_atom(ilist[ii], th, f, vatom_t, cutsq_all);
      } catch (const std::exception &e) {
        th.error = std::string("Pair style snnp: ") + e.what();
      }
    }
  }
  reduce_threads(team, nall);
}

void PairSNNP::reduce_threads(int nthreads, int nall)
{
  for (int t = 0; t < nthreads; ++t)
    if (!threads[t].error.empty()) error->one(FLERR, threads[t].error);
  for (int t = 0; t < nthreads; ++t) {
    const Thread &th = threads[t];
    if (eflag_global) eng_vdwl += th.energy;
    if (vflag_global)
      for (int c = 0; c < 6; ++c) virial[c] += th.virial[c];
    if (t == 0) continue;
    double *f = &atom->f[0][0];
    for (int q = 0; q < 3 * nall; ++q) f[q] += th.f[q];
    if (vflag_atom) {
      double *va = &vatom[0][0];
      for (int q = 0; q < 6 * nall; ++q) va[q] += th.vatom[q];
    }
  }
}

// One owned atom i: its energy, and its pairs' forces and virials added to f and vatom
// (rows of 3 and 6 per local or ghost atom); a failure is recorded in t.error.
void PairSNNP::compute_atom(int i, Thread &th, double *f, double *vatom_t, double cutsq_all)
{
  double **x = atom->x;
  const int *type = atom->type;
  const tagint *tag = atom->tag;
  const int a = species_of_type[type[i]];
  if (a < 0) return;
  const int *jlist = list->firstneigh[i];
  const int jnum = list->numneigh[i];
  snnp::AtomWork &work = th.work;
  work.reserve(jnum, *model);
  if (th.neighbour.size() < static_cast<size_t>(jnum)) th.neighbour.resize(jnum);

  int n = 0;
  for (int jj = 0; jj < jnum; ++jj) {
    const int j = jlist[jj] & NEIGHMASK;
    const int b = species_of_type[type[j]];
    if (b < 0) continue;
    double *D = &work.D[3 * n];
    D[0] = x[j][0] - x[i][0];
    D[1] = x[j][1] - x[i][1];
    D[2] = x[j][2] - x[i][2];
    const double rsq = D[0] * D[0] + D[1] * D[1] + D[2] * D[2];
    if (rsq >= cutsq_all) continue;
    const double r = std::sqrt(rsq);
    if (r < MIN_DISTANCE) {
      th.error = fmt::format("Pair style snnp: atoms {} and {} coincide (distance {:.3g} A)",
                             tag ? tag[i] : i, tag ? tag[j] : j, r);
      return;
    }
    work.species[n] = b;
    work.r[n] = r;
    th.neighbour[n] = j;
    ++n;
  }
  work.n = n;
  const double energy = model->atom_energy(a, work);
  // A valid model with extreme parameters can overflow; never hand LAMMPS inf or NaN
  // (snnp_calc.evaluate refuses such results too). One non-finite term makes the sum so.
  double sum = energy;
  for (int q = 0; q < 3 * n; ++q) sum += work.dE[q];
  if (!std::isfinite(sum)) {
    th.error = fmt::format("Pair style snnp: model file {} gives a non-finite energy or force "
                           "for atom {} ({} neighbours): its parameters overflow float64 here",
                           model_file, tag ? tag[i] : i, n);
    return;
  }

  th.energy += energy;
  if (eflag_atom) eatom[i] += energy;    // i is owned by this thread alone
  for (int p = 0; p < n; ++p) {
    const int j = th.neighbour[p];
    const double *g = &work.dE[3 * p];
    // g = dE/dD with D = r_j - r_i: F_i = -dE/dr_i = g, F_j = -g
    for (int c = 0; c < 3; ++c) {
      f[3 * i + c] += g[c];
      f[3 * j + c] -= g[c];
    }
    if (vflag_either) {
      // LAMMPS' virial sum r (x) f of this pair is -D (x) g, symmetrised (xx yy zz xy xz yz)
      const double *D = &work.D[3 * p];
      const double v[6] = {-g[0] * D[0],
                           -g[1] * D[1],
                           -g[2] * D[2],
                           -0.5 * (g[0] * D[1] + g[1] * D[0]),
                           -0.5 * (g[0] * D[2] + g[2] * D[0]),
                           -0.5 * (g[1] * D[2] + g[2] * D[1])};
      if (vflag_global)
        for (int c = 0; c < 6; ++c) th.virial[c] += v[c];
      if (vflag_atom)
        for (int c = 0; c < 6; ++c) {
          vatom_t[6 * i + c] += 0.5 * v[c];
          vatom_t[6 * j + c] += 0.5 * v[c];
        }
    }
  }
}

double PairSNNP::memory_usage()
{
  double bytes = Pair::memory_usage();
  for (const Thread &th : threads) {
    const snnp::AtomWork &w = th.work;
    for (const auto *v : {&w.D, &w.r, &w.dE, &w.u, &w.drho, &w.dphi, &w.f, &w.df, &w.gtab,
                          &w.G, &w.dR, &w.mlp, &th.f, &th.vatom})
      bytes += v->capacity() * sizeof(double);
    bytes += (w.species.capacity() + w.triplet.capacity() + th.neighbour.capacity()) * sizeof(int);
  }
  return bytes;
}
