/* pair_style snnp: s-NNP models (snnp_calc JSON files) in LAMMPS, loaded as a plugin.

   Usage (units metal, newton pair on):

     plugin load /path/to/snnpplugin.so
     pair_style snnp
     pair_coeff * * MODEL.json El1 El2 ...     (one element or NULL per atom type)

   Each owned atom i is evaluated from its full neighbour list, ghosts
   included; the pair gradients g_p = dE_i/dD_p give F_i += g_p, F_j -= g_p,
   and with newton on LAMMPS' reverse communication sums what lands on ghost
   atoms. The virial is tallied from g_p (x) D_p, each pair term half to i and
   half to j, so per-atom virials sum to the global one (compute stress/atom).

   Threads (hybrid MPI + OpenMP, as meam/spline/omp): with "package omp N" (or
   lmp -pk omp N) each rank's owned atoms are shared among N OpenMP threads in
   static chunks; every thread adds its forces, energy and virial to its own
   buffers, summed afterwards in thread order, so a run with a given N is
   deterministic and differs from N = 1 by round-off only. */

#ifndef LMP_PAIR_SNNP_H
#define LMP_PAIR_SNNP_H

#include "pair.h"
#include "snnp_model.h"

#include <memory>
#include <string>
#include <vector>

namespace LAMMPS_NS {

class PairSNNP : public Pair {
 public:
  PairSNNP(class LAMMPS *);
  ~PairSNNP() override;

  void compute(int, int) override;
  void settings(int, char **) override;
  void coeff(int, char **) override;
  void init_style() override;
  double init_one(int, int) override;
  double memory_usage() override;

 private:
  std::unique_ptr<snnp::Model> model;
  std::string model_file;
  std::vector<int> species_of_type;    // [1..ntypes]: model species index, -1 for NULL
  // per thread: its scratch, the neighbours of its current atom, and the sums it tallies
  struct Thread {
    snnp::AtomWork work;
    std::vector<int> neighbour;        // local index of neighbour p of the current atom
    std::vector<double> f, vatom;      // (nall, 3) and (nall, 6), threads after the first
    double energy = 0.0, virial[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    std::string error;                 // the first failure met, raised after the loop
  };
  std::vector<Thread> threads;

  void allocate();
  void compute_atom(int i, Thread &t, double *f, double *vatom, double cutsq_all);
  void reduce_threads(int nthreads, int nall);
  std::string read_text(const std::string &path);
};

}    // namespace LAMMPS_NS

#endif
