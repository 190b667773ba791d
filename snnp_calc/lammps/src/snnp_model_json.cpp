/* Reader of the JSON model document (format "snnp", versions 1 to 4) for the plugin.

   The layout and the checks are those of snnp_calc/io/json_model.py and
   json_document.py, which accept exactly the files this reader accepts: every
   key must be present (nothing is filled in), no unknown or duplicate keys,
   types, shapes and ranges are checked, numbers must be finite (a literal
   beyond float64 such as 1e400 is refused anywhere, metadata included), the
   limits MAX_* below hold, knot spacings are representable (Spline), and the
   radial splines rho, f, phi and the Legendre filters' f end with value and slope 0
   (DESIGN.md section 1).
   Every problem, JSON syntax included, is a ModelError naming the key path
   ("filters.rho[0][1].y: expected 10 numbers, got 9"); no exception of the
   JSON library leaves parse_model_json. JSON parsing is done by the nlohmann
   JSON header shipped with LAMMPS (namespace nlohmann_lmp). */

#include "snnp_model.h"

#include "nlohmann/json.hpp"

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <initializer_list>
#include <set>

namespace snnp {

using json = nlohmann_lmp::json;

namespace {

  // Size limits, those of snnp_calc/io (json_document.MAX_DEPTH, splines.MAX_KNOTS,
  // json_model.MAX_FILTERS, MAX_LAYERS, MAX_WIDTH): no file makes the plugin allocate absurdly.
  constexpr size_t MAX_DEPTH = 64;
  constexpr long MAX_KNOTS = 100000;
  constexpr size_t MAX_FILTERS = 1000;
  constexpr size_t MAX_LAYERS = 64;
  constexpr long MAX_WIDTH = 10000;
  constexpr long MAX_DEGREE = 12;    // snnp_calc/model/legendre.py

  // text with every byte outside printable ASCII as \xNN: a message may quote bytes of a
  // broken file, and LAMMPS' Python module cannot decode an error that is not UTF-8.
  std::string printable(const std::string &text)
  {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (const unsigned char c : text) {
      if (c >= 0x20 && c < 0x7f) {
        out += static_cast<char>(c);
      } else {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    return out;
  }

  [[noreturn]] void fail(const std::string &path, const std::string &message)
  {
    throw ModelError(printable((path.empty() ? std::string("<document>") : path) + ": " + message));
  }

  std::string join(const std::string &path, const std::string &key)
  {
    return path.empty() ? key : path + "." + key;
  }

  std::string item(const std::string &path, size_t i)
  {
    return path + "[" + std::to_string(i) + "]";
  }

  // v as JSON text for a message, cut short: a value in a bad file may be huge.
  std::string shown(const json &v)
  {
    const std::string text = v.dump();
    return text.size() <= 60 ? text : text.substr(0, 57) + "...";
  }

  std::string type_name(const json &v)
  {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return "bool";
    if (v.is_number_integer()) return "integer";
    if (v.is_number()) return "number";
    if (v.is_string()) return "string";
    if (v.is_array()) return "array";
    return "object";
  }

  // An object with exactly these keys.
  const json &object(const json &v, const std::string &path, std::initializer_list<const char *> keys)
  {
    if (!v.is_object()) fail(path, "expected an object, got " + type_name(v));
    for (const char *key : keys)
      if (!v.contains(key)) fail(join(path, key), "missing key");
    for (auto it = v.begin(); it != v.end(); ++it) {
      bool known = false;
      std::string expected;
      for (const char *key : keys) {
        known = known || it.key() == key;
        expected += (expected.empty() ? "" : ", ") + std::string(key);
      }
      if (!known) fail(join(path, it.key()), "unknown key (expected " + expected + ")");
    }
    return v;
  }

  const json &array(const json &v, const std::string &path, long n = -1,
                    const std::string &what = "entries")
  {
    if (!v.is_array()) fail(path, "expected an array, got " + type_name(v));
    if (n >= 0 && static_cast<long>(v.size()) != n)
      fail(path, "expected " + std::to_string(n) + " " + what + ", got " + std::to_string(v.size()));
    return v;
  }

  double number(const json &v, const std::string &path)
  {
    if (!v.is_number()) fail(path, "expected a number, got " + type_name(v));
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail(path, "number is not finite (" + repr(x) + ")");
    return x;
  }

  int integer(const json &v, const std::string &path, long low, long high)
  {
    if (!v.is_number_integer()) fail(path, "expected an integer, got " + type_name(v));
    const bool big = v.is_number_unsigned() ? v.get<unsigned long long>() > INT_MAX
                                            : v.get<long long>() < INT_MIN;
    const long value = big ? LONG_MAX : static_cast<long>(v.get<long long>());
    if (value < low || value > high) {
      std::string range = high == INT_MAX ? ">= " + std::to_string(low)
                                          : "in " + std::to_string(low) + ".." + std::to_string(high);
      fail(path, "expected an integer " + range + ", got " + shown(v));
    }
    return static_cast<int>(value);
  }

  std::vector<double> vector(const json &v, const std::string &path, long n)
  {
    array(v, path, n, "numbers");
    std::vector<double> out;
    for (size_t i = 0; i < v.size(); ++i) out.push_back(number(v[i], item(path, i)));
    return out;
  }

  // A (rows x cols) matrix, row-major.
  std::vector<double> matrix(const json &v, const std::string &path, long rows, long cols)
  {
    array(v, path, rows, "rows");
    std::vector<double> out;
    for (size_t i = 0; i < v.size(); ++i) {
      const std::vector<double> row = vector(v[i], item(path, i), cols);
      out.insert(out.end(), row.begin(), row.end());
    }
    return out;
  }

  // A spline; a radial one (rho, f, phi) must end with value 0 and slope 0 (DESIGN.md §1).
  Spline spline(const json &v, const std::string &path, bool radial)
  {
    object(v, path, {"x0", "x1", "n_knots", "y", "d0", "dN", "fixed"});
    const int m = integer(v["n_knots"], join(path, "n_knots"), 2, MAX_KNOTS);
    const std::vector<double> y = vector(v["y"], join(path, "y"), m);
    const double x0 = number(v["x0"], join(path, "x0"));
    const double x1 = number(v["x1"], join(path, "x1"));
    const double d0 = number(v["d0"], join(path, "d0"));
    const double dN = number(v["dN"], join(path, "dN"));
    const json &fixed = array(v["fixed"], join(path, "fixed"));
    for (size_t i = 0; i < fixed.size(); ++i) {
      const int index = integer(fixed[i], item(join(path, "fixed"), i), 0, m + 1);
      if (i > 0 && index <= fixed[i - 1].get<long long>())
        fail(item(join(path, "fixed"), i), "indices must be strictly increasing");
    }
    if (!(x1 > x0)) fail(path, "spline knots must increase: x0 = " + repr(x0) + ", x1 = " + repr(x1));
    Spline out;
    try {
      out = Spline(x0, x1, y, d0, dN);
    } catch (const ModelError &err) {
      fail(path, err.what());
    }
    const std::string why = " (DESIGN.md section 1: no step in the energy or the forces at the cutoff)";
    if (radial && y[m - 1] != 0.0)
      fail(item(join(path, "y"), m - 1),
           "a radial spline must end with value 0 at its last knot, got " + repr(y[m - 1]) + why);
    if (radial && dN != 0.0)
      fail(join(path, "dN"), "a radial spline must end with slope 0 at its last knot, got " +
           repr(dN) + why);
    return out;
  }

  std::vector<Spline> spline_list(const json &v, const std::string &path, long n,
                                  const std::string &what, bool radial)
  {
    array(v, path, n, what);
    std::vector<Spline> out;
    for (size_t i = 0; i < v.size(); ++i) out.push_back(spline(v[i], item(path, i), radial));
    return out;
  }

  // Rows of splines (one row per filter), appended filter-major: [k * width + b].
  int filter_rows(const json &v, const std::string &path, long n_rows, long width,
                  const std::string &per, bool radial, std::vector<Spline> &out)
  {
    array(v, path, n_rows, "filters (one per triplet filter)");
    if (v.size() > MAX_FILTERS)
      fail(path, "expected at most " + std::to_string(MAX_FILTERS) + " filters, got " +
           std::to_string(v.size()));
    for (size_t k = 0; k < v.size(); ++k) {
      std::vector<Spline> row = spline_list(v[k], item(path, k), width,
                                            "splines (one per " + per + ")", radial);
      out.insert(out.end(), row.begin(), row.end());
    }
    return static_cast<int>(v.size());
  }

  void read_readout(const json &v, Model &model)
  {
    if (!v.is_object()) fail("readout", "expected an object, got " + type_name(v));
    if (!v.contains("kind")) fail("readout.kind", "missing key");
    if (!v["kind"].is_string()) fail("readout.kind", "expected a string, got " + type_name(v["kind"]));
    const std::string kind = v["kind"].get<std::string>();
    const int S = model.S, K = model.n_inputs();
    if (kind == "spline") {
      object(v, "readout", {"kind", "U"});
      if (model.K_r != 1 || model.K_t != 1 || model.K_l != 0)
        fail("readout.kind", "the spline (s-MEAM) readout needs exactly one pair and one triplet "
             "filter, got K_rho = " + std::to_string(model.K_r) + ", K_t = " +
             std::to_string(model.K_t) + " and " + std::to_string(model.K_l * model.O) +
             " Legendre inputs");
      model.spline_readout = true;
      model.U = spline_list(v["U"], "readout.U", S, "splines (one per species)", false);
      return;
    }
    if (kind != "mlp") fail("readout.kind", "unknown readout kind '" + kind + "'; expected 'mlp' or 'spline'");
    object(v, "readout", {"kind", "activation", "hidden", "input_offset", "input_scale", "weights"});
    const json &act = v["activation"];
    if (!act.is_string()) fail("readout.activation", "expected a string, got " + type_name(act));
    const std::string name = act.get<std::string>();
    const char *names[] = {"tanh", "softplus", "silu", "celu"};
    int index = -1;
    for (int i = 0; i < 4; ++i)
      if (name == names[i]) index = i;
    if (index < 0)
      fail("readout.activation", "unknown activation '" + name + "'; expected one of tanh, softplus, silu, celu");
    model.activation = static_cast<Activation>(index);
    model.sizes = {K};
    const json &hidden = array(v["hidden"], "readout.hidden");
    if (hidden.size() > MAX_LAYERS)
      fail("readout.hidden", "expected at most " + std::to_string(MAX_LAYERS) +
           " hidden layers, got " + std::to_string(hidden.size()));
    for (size_t i = 0; i < hidden.size(); ++i)
      model.sizes.push_back(integer(hidden[i], item("readout.hidden", i), 1, MAX_WIDTH));
    model.sizes.push_back(1);
    model.offset = matrix(v["input_offset"], "readout.input_offset", S, K);
    model.scale = matrix(v["input_scale"], "readout.input_scale", S, K);
    // inputs are divided by the scales: each must have a finite reciprocal
    for (int i = 0; i < S * K; ++i)
      if (!(model.scale[i] >= DBL_MIN))
        fail(item(item("readout.input_scale", i / K), i % K),
             "scale must be positive and a normal float64 (at least " + repr(DBL_MIN) +
             ": inputs are divided by it), got " + repr(model.scale[i]));
    const long n_layers = static_cast<long>(model.sizes.size()) - 1;
    const json &sets = array(v["weights"], "readout.weights", S, "weight sets (one per species)");
    for (int a = 0; a < S; ++a) {
      const std::string path = item("readout.weights", a);
      const json &layers = array(sets[a], path, n_layers, "layers");
      std::vector<double> flat;
      for (long l = 0; l < n_layers; ++l) {
        const std::string lpath = item(path, l);
        const json &layer = object(layers[l], lpath, {"W", "b"});
        const std::vector<double> W = matrix(layer["W"], lpath + ".W", model.sizes[l + 1], model.sizes[l]);
        const std::vector<double> b = vector(layer["b"], lpath + ".b", model.sizes[l + 1]);
        flat.insert(flat.end(), W.begin(), W.end());
        flat.insert(flat.end(), b.begin(), b.end());
      }
      model.weights.push_back(flat);
    }
  }

  // filters.legendre_degree and filters.legendre (version 3), filters.legendre_outputs (4)
  void read_legendre(const json &filters, Model &model, int version)
  {
    model.L = integer(filters["legendre_degree"], "filters.legendre_degree", 0, MAX_DEGREE);
    if (version >= 4) {
      const json &v = filters["legendre_outputs"];
      if (!v.is_string())
        fail("filters.legendre_outputs", "expected a string, got " + type_name(v));
      const std::string outputs = v.get<std::string>();
      if (outputs != "sum" && outputs != "degree")
        fail("filters.legendre_outputs", "expected 'sum' or 'degree', got '" + outputs + "'");
      model.O = outputs == "degree" ? model.L + 1 : 1;
    }
    const json &rows = array(filters["legendre"], "filters.legendre");
    if (rows.size() > MAX_FILTERS)
      fail("filters.legendre", "expected at most " + std::to_string(MAX_FILTERS) +
           " filters, got " + std::to_string(rows.size()));
    for (size_t k = 0; k < rows.size(); ++k) {
      const std::string path = item("filters.legendre", k);
      const json &row = object(rows[k], path, {"f", "c"});
      const std::vector<Spline> f = spline_list(row["f"], path + ".f", model.S,
                                                "splines (one per neighbour species)", true);
      model.legendre_f.insert(model.legendre_f.end(), f.begin(), f.end());
      const std::vector<double> c = matrix(row["c"], path + ".c", model.P, model.L + 1);
      model.legendre_c.insert(model.legendre_c.end(), c.begin(), c.end());
    }
    model.K_l = static_cast<int>(rows.size());
  }

  void read_core(const json &v, Model &model)
  {
    if (v.is_null()) return;
    object(v, "core", {"kind", "r_inner", "r_outer"});
    if (v["kind"] != "zbl") fail("core.kind", "unknown core " + shown(v["kind"]) + "; expected \"zbl\"");
    const double inner = number(v["r_inner"], "core.r_inner");
    const double outer = number(v["r_outer"], "core.r_outer");
    if (!(0.0 < inner && inner < outer))
      fail("core", "a ZBL core needs 0 < r_inner < r_outer, got " + repr(inner) + " and " + repr(outer));
    model.core_r_in = inner;
    model.core_r_out = outer;
  }

}    // namespace

namespace {

  /* Where the parser is in the document, as a key path, from the events of nlohmann's
     parser callback; it also refuses duplicate keys (nlohmann keeps the last, Python's
     reader refuses them) and nesting deeper than MAX_DEPTH. */
  class PathTracker {
   public:
    // Key path of the value being read (of the innermost container between its entries).
    std::string path() const
    {
      std::string out;
      for (const Frame &f : frames_) {
        if (f.array)
          out = item(out, f.count);
        else if (f.has_key)
          out = join(out, f.key);
      }
      return out;
    }

    bool on_event(json::parse_event_t event, const json &parsed)
    {
      using event_t = json::parse_event_t;
      if (event == event_t::object_start || event == event_t::array_start) {
        if (frames_.size() >= MAX_DEPTH)
          fail(path(), "nested deeper than " + std::to_string(MAX_DEPTH) +
               " levels of objects and arrays");
        frames_.emplace_back();
        frames_.back().array = event == event_t::array_start;
      } else if (event == event_t::object_end || event == event_t::array_end) {
        frames_.pop_back();
        done_value();
      } else if (event == event_t::key) {
        Frame &f = frames_.back();
        f.key = parsed.get<std::string>();
        f.has_key = true;
        if (!f.keys.insert(f.key).second) fail(path(), "duplicate key");
      } else {
        done_value();
      }
      return true;
    }

   private:
    struct Frame {
      bool array = false, has_key = false;
      size_t count = 0;    // entries of an array read so far
      std::string key;     // the last key of an object
      std::set<std::string> keys;
    };
    std::vector<Frame> frames_;

    void done_value()
    {
      if (frames_.empty()) return;
      if (frames_.back().array)
        ++frames_.back().count;
      else
        frames_.back().has_key = false;
    }
  };

  // The parsed document; syntax errors and numbers beyond float64 name the key path.
  json parse_document(const std::string &text)
  {
    // Python's json refuses a byte order mark, which nlohmann would skip.
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
      fail("", "not valid JSON: a byte order mark is not allowed");
    // nlohmann takes a NUL byte for the end of the input and would ignore what follows;
    // JSON allows none anywhere (inside strings it is written \u0000).
    const size_t nul = text.find('\0');
    if (nul != std::string::npos) {
      const size_t line_start = text.rfind('\n', nul);
      const size_t column = line_start == std::string::npos ? nul + 1 : nul - line_start;
      fail("", "not valid JSON: a NUL byte at line " +
           std::to_string(std::count(text.begin(), text.begin() + nul, '\n') + 1) +
           ", column " + std::to_string(column));
    }
    PathTracker tracker;
    json::parser_callback_t on_event = [&tracker](int, json::parse_event_t event, json &parsed) {
      return tracker.on_event(event, parsed);
    };
    try {
      return json::parse(text, on_event);
    } catch (const json::parse_error &err) {
      fail(tracker.path(), std::string("not valid JSON: ") + err.what());
    } catch (const json::out_of_range &err) {
      // 406: a number literal beyond float64 (1e400, or an integer of 400 digits)
      fail(tracker.path(), std::string("number out of the float64 range: ") + err.what());
    } catch (const json::exception &err) {
      fail(tracker.path(), std::string("not a valid JSON document: ") + err.what());
    }
  }

  Model read_document(const json &doc)
  {
    if (!doc.is_object()) fail("", "expected an object, got " + type_name(doc));
    for (const char *key : {"format", "version"})
      if (!doc.contains(key)) fail(key, "missing key");
    if (doc["format"] != "snnp") fail("format", "unknown format " + shown(doc["format"]) + "; expected \"snnp\"");
    const int version = integer(doc["version"], "version", INT_MIN, INT_MAX);
    if (version < 1 || version > 4)
      fail("version", "unsupported version " + shown(doc["version"]) + "; this reader supports 1, 2, 3, 4");
    // version 1 is version 2 without "core", version 2 version 3 without the Legendre filters,
    // version 3 version 4 without filters.legendre_outputs
    if (version >= 2)
      object(doc, "", {"format", "version", "units", "species", "cutoff", "filters", "pair", "readout",
                       "e0", "core", "metadata"});
    else
      object(doc, "", {"format", "version", "units", "species", "cutoff", "filters", "pair", "readout",
                       "e0", "metadata"});
    const json &units = object(doc["units"], "units", {"energy", "length"});
    if (units["energy"] != "eV") fail("units.energy", "unsupported unit " + shown(units["energy"]) + "; expected \"eV\"");
    if (units["length"] != "Angstrom")
      fail("units.length", "unsupported unit " + shown(units["length"]) + "; expected \"Angstrom\"");

    Model model;
    const json &species = array(doc["species"], "species");
    if (species.empty()) fail("species", "expected at least one species");
    for (size_t i = 0; i < species.size(); ++i) {
      if (!species[i].is_string() || species[i].get<std::string>().empty())
        fail(item("species", i), "expected an element symbol, got " + shown(species[i]));
      const std::string sym = species[i].get<std::string>();
      if (std::find(model.species.begin(), model.species.end(), sym) != model.species.end())
        fail(item("species", i), "duplicate species '" + sym + "'");
      if (atomic_number(sym) == 0) fail(item("species", i), "unknown element symbol '" + sym + "'");
      model.species.push_back(sym);
      model.z.push_back(atomic_number(sym));
    }
    model.S = static_cast<int>(model.species.size());
    model.P = model.S * (model.S + 1) / 2;
    const double cutoff = number(doc["cutoff"], "cutoff");

    const json &filters = version >= 4
        ? object(doc["filters"], "filters",
                 {"rho", "f", "g", "legendre_degree", "legendre_outputs", "legendre"})
        : version >= 3
        ? object(doc["filters"], "filters", {"rho", "f", "g", "legendre_degree", "legendre"})
        : object(doc["filters"], "filters", {"rho", "f", "g"});
    model.K_r = filter_rows(filters["rho"], "filters.rho", -1, model.S, "neighbour species", true,
                            model.rho);
    model.K_t = filter_rows(filters["f"], "filters.f", -1, model.S, "neighbour species", true,
                            model.f);
    filter_rows(filters["g"], "filters.g", model.K_t, model.P, "unordered species pair", false,
                model.g);
    if (version >= 3) read_legendre(filters, model, version);
    if (model.K_r + model.K_t + model.K_l == 0) fail("filters", "the model needs at least one filter");
    if (!doc["pair"].is_null())
      model.phi = spline_list(doc["pair"], "pair", model.P, "splines (one per unordered species pair)",
                               true);
    read_readout(doc["readout"], model);
    model.e0 = vector(doc["e0"], "e0", model.S);
    if (version >= 2) read_core(doc["core"], model);
    if (!doc["metadata"].is_object()) fail("metadata", "expected an object, got " + type_name(doc["metadata"]));
    model.finalize();
    if (model.cutoff != cutoff)
      fail("cutoff", repr(cutoff) + " does not equal the largest last knot of the radial splines, " +
           repr(model.cutoff));
    if (model.core_r_out > model.cutoff)
      fail("core.r_outer", "the core ends at " + repr(model.core_r_out) + " A, beyond the cutoff " +
           repr(model.cutoff));
    return model;
  }

}    // namespace

Model parse_model_json(const std::string &text)
{
  // No exception other than ModelError may reach LAMMPS (it would abort every rank).
  try {
    return read_document(parse_document(text));
  } catch (const ModelError &) {
    throw;
  } catch (const json::exception &err) {
    fail("", std::string("unexpected JSON error: ") + err.what());
  } catch (const std::exception &err) {
    fail("", std::string("cannot read the model: ") + err.what());
  }
}

}    // namespace snnp
