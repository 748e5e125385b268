//===- Manifest.cpp - Kernel manifest and launch arguments ----------------===//

#include "Manifest.h"

#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace fimlir {

namespace {
struct DtypeEntry {
  fimlir_dtype dtype;
  const char *name;
};
} // namespace

static const DtypeEntry kDtypes[] = {
    {FIMLIR_DTYPE_F16, "f16"},
    {FIMLIR_DTYPE_BF16, "bf16"},
    {FIMLIR_DTYPE_F32, "f32"},
    {FIMLIR_DTYPE_F64, "f64"},
    {FIMLIR_DTYPE_F8E4M3FN, "f8E4M3FN"},
    {FIMLIR_DTYPE_F8E5M2, "f8E5M2"},
    {FIMLIR_DTYPE_I1, "i1"},
    {FIMLIR_DTYPE_I8, "i8"},
    {FIMLIR_DTYPE_I16, "i16"},
    {FIMLIR_DTYPE_I32, "i32"},
    {FIMLIR_DTYPE_I64, "i64"},
    {FIMLIR_DTYPE_UI8, "ui8"},
    {FIMLIR_DTYPE_F8E4M3FNUZ, "f8E4M3FNUZ"},
};

const char *dtypeName(fimlir_dtype dtype) {
  for (const auto &entry : kDtypes)
    if (entry.dtype == dtype)
      return entry.name;
  return "invalid";
}

fimlir_dtype parseDtype(const std::string &name) {
  for (const auto &entry : kDtypes)
    if (name == entry.name)
      return entry.dtype;
  return FIMLIR_DTYPE_INVALID;
}

static bool isIntegerDtype(int dtype) {
  return dtype == FIMLIR_DTYPE_I1 || dtype == FIMLIR_DTYPE_I8 ||
         dtype == FIMLIR_DTYPE_I16 || dtype == FIMLIR_DTYPE_I32 ||
         dtype == FIMLIR_DTYPE_I64;
}

static bool isScalarDtype(int dtype) {
  return dtype == FIMLIR_DTYPE_I32 || dtype == FIMLIR_DTYPE_I64 ||
         dtype == FIMLIR_DTYPE_F32 || dtype == FIMLIR_DTYPE_F64;
}

static const char *dtypeNameOrInvalid(int dtype) {
  return dtypeName(static_cast<fimlir_dtype>(dtype));
}

size_t KernelSpec::numParams() const {
  size_t n = 0;
  for (const ArgSpec &arg : args)
    n +=
        arg.kind == ArgKind::Memref ? 3 + 2 * static_cast<size_t>(arg.rank) : 1;
  return n;
}

const KernelSpec *Manifest::findKernel(const std::string &name) const {
  for (const KernelSpec &kernel : kernels)
    if (kernel.name == name)
      return &kernel;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

namespace {

class ManifestReader {
public:
  ManifestReader(const std::string &source, std::string &error)
      : source(source), error(error) {}

  bool read(const JsonValue &root, Manifest &out);
  bool readSequence(const JsonValue &v, const Manifest &manifest,
                    SequenceSpec &sequence);

private:
  const std::string &source;
  std::string &error;
  std::string context; // "kernels[0] ('name'): " while reading a kernel
  // Names what an expression belongs to in messages: "grid", or
  // "args[3] ('o').shape[0]".
  std::string exprWhere = "grid";
  // Argument name -> index for the kernel being read (the grid refers to
  // arguments by name); hashing keeps reading linear in the argument count.
  std::unordered_map<std::string, int> argIndex;

  bool fail(const JsonValue &at, const std::string &what) {
    error = source + ":" + std::to_string(at.line) + ":" +
            std::to_string(at.column) + ": " + context + what;
    return false;
  }

  bool expectKind(const JsonValue &v, JsonValue::Kind kind,
                  const std::string &what) {
    if (v.kind == kind)
      return true;
    return fail(v, what + " must be " +
                       (kind == JsonValue::Kind::Int ? std::string("an integer")
                        : kind == JsonValue::Kind::Array ||
                                kind == JsonValue::Kind::Object
                            ? std::string("an ") + jsonKindName(kind)
                            : std::string("a ") + jsonKindName(kind)) +
                       ", got " + jsonKindName(v.kind));
  }

  const JsonValue *require(const JsonValue &obj, const char *key) {
    const JsonValue *v = obj.get(key);
    if (!v)
      fail(obj, std::string("missing required key \"") + key + "\"");
    return v;
  }

  bool readKernel(const JsonValue &v, KernelSpec &kernel);
  bool readArg(const JsonValue &v, size_t index, ArgSpec &arg);
  bool readShape(const JsonValue &v, size_t index, KernelSpec &kernel);
  bool readGridExpr(const JsonValue &v, const KernelSpec &kernel,
                    GridExpr &expr, unsigned depth,
                    bool signedConstant = false);
  bool readArgDim(const JsonValue &v, const KernelSpec &kernel,
                  const char *opName, size_t arity, GridExpr &expr);
};

} // namespace

static bool parseTarget(const std::string &target, TargetKind &kind) {
  // Longest target accepted; real ones are like "gfx942:sramecc+:xnack-".
  constexpr size_t kMaxTarget = 64;
  if (target.size() > kMaxTarget)
    return false;
  auto allOf = [](const std::string &s, size_t from, const char *chars) {
    if (from >= s.size())
      return false;
    return s.find_first_not_of(chars, from) == std::string::npos;
  };
  if (target.rfind("sm_", 0) == 0) {
    std::string rest = target.substr(3);
    if (!rest.empty() && (rest.back() == 'a' || rest.back() == 'f'))
      rest.pop_back();
    if (rest.size() >= 2 && rest.size() <= 3 && allOf(rest, 0, "0123456789")) {
      kind = TargetKind::Cuda;
      return true;
    }
    return false;
  }
  if (target.rfind("gfx", 0) == 0) {
    size_t colon = target.find(':');
    std::string base = target.substr(0, colon);
    if (!allOf(base, 3, "0123456789abcdef"))
      return false;
    // Target features: (":" name ("+" | "-"))*.
    while (colon != std::string::npos) {
      size_t next = target.find(':', colon + 1);
      std::string feature = target.substr(
          colon + 1, next == std::string::npos ? next : next - colon - 1);
      if (feature.size() < 2 ||
          (feature.back() != '+' && feature.back() != '-'))
        return false;
      feature.pop_back();
      if (!allOf(feature, 0,
                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678"
                 "9_"))
        return false;
      colon = next;
    }
    kind = TargetKind::Amdgpu;
    return true;
  }
  return false;
}

bool ManifestReader::read(const JsonValue &root, Manifest &out) {
  if (!expectKind(root, JsonValue::Kind::Object, "the manifest"))
    return false;

  const JsonValue *version = require(root, "version");
  if (!version || !expectKind(*version, JsonValue::Kind::Int, "\"version\""))
    return false;
  if (version->integer != 1)
    return fail(*version, "unsupported manifest version " +
                              std::to_string(version->integer) +
                              " (this runtime reads version 1)");
  out.version = 1;

  const JsonValue *target = require(root, "target");
  if (!target || !expectKind(*target, JsonValue::Kind::String, "\"target\""))
    return false;
  if (!parseTarget(target->string, out.targetKind))
    return fail(*target, "unsupported target '" + abbreviate(target->string) +
                             "' (expected sm_<NN>[a|f] or gfx<ID>)");
  out.target = target->string;

  const JsonValue *binary = require(root, "binary");
  if (!binary || !expectKind(*binary, JsonValue::Kind::String, "\"binary\""))
    return false;
  if (binary->string.empty())
    return fail(*binary, "\"binary\" must not be empty");
  out.binary = binary->string;

  const JsonValue *kernels = require(root, "kernels");
  if (!kernels || !expectKind(*kernels, JsonValue::Kind::Array, "\"kernels\""))
    return false;
  if (kernels->array.empty())
    return fail(*kernels, "\"kernels\" must list at least one kernel");

  std::unordered_set<std::string> kernelNames;
  for (size_t i = 0; i < kernels->array.size(); ++i) {
    const JsonValue &kv = kernels->array[i];
    context = "kernels[" + std::to_string(i) + "]: ";
    KernelSpec kernel;
    if (!readKernel(kv, kernel))
      return false;
    if (!kernelNames.insert(kernel.name).second) {
      context.clear();
      return fail(*kv.get("name"),
                  "duplicate kernel name '" + abbreviate(kernel.name) + "'");
    }
    out.kernels.push_back(std::move(kernel));
  }
  context.clear();
  if (const JsonValue *sequence = root.get("sequence")) {
    out.sequence.emplace();
    if (!readSequence(*sequence, out, *out.sequence))
      return false;
  }
  return true;
}

bool ManifestReader::readSequence(const JsonValue &v, const Manifest &manifest,
                                  SequenceSpec &sequence) {
  context = "sequence: ";
  if (!expectKind(v, JsonValue::Kind::Object, "the sequence"))
    return false;
  const JsonValue *args = require(v, "args");
  if (!args || !expectKind(*args, JsonValue::Kind::Array, "\"args\""))
    return false;
  std::unordered_set<std::string> names;
  for (const JsonValue &name : args->array) {
    if (!expectKind(name, JsonValue::Kind::String, "an argument name"))
      return false;
    if (name.string.empty() || !names.insert(name.string).second)
      return fail(name, "argument names must be unique and not empty, got '" +
                            abbreviate(name.string) + "'");
    sequence.args.push_back(name.string);
  }
  const JsonValue *launches = require(v, "launches");
  if (!launches ||
      !expectKind(*launches, JsonValue::Kind::Array, "\"launches\""))
    return false;
  for (size_t i = 0; i < launches->array.size(); ++i) {
    const JsonValue &lv = launches->array[i];
    context = "sequence: launches[" + std::to_string(i) + "]: ";
    if (!expectKind(lv, JsonValue::Kind::Object, "a launch"))
      return false;
    const JsonValue *kernel = require(lv, "kernel");
    if (!kernel || !expectKind(*kernel, JsonValue::Kind::String, "\"kernel\""))
      return false;
    LaunchSpec launch;
    const KernelSpec *spec = manifest.findKernel(kernel->string);
    if (!spec)
      return fail(*kernel, "no kernel '" + abbreviate(kernel->string) +
                               "' in \"kernels\"");
    launch.kernel = static_cast<int>(spec - manifest.kernels.data());
    const JsonValue *picks = require(lv, "args");
    if (!picks || !expectKind(*picks, JsonValue::Kind::Array, "\"args\""))
      return false;
    if (picks->array.size() != spec->args.size())
      return fail(*picks, "passes " + std::to_string(picks->array.size()) +
                              " arguments to '" + abbreviate(spec->name) +
                              "', which takes " +
                              std::to_string(spec->args.size()));
    for (const JsonValue &pick : picks->array) {
      if (!expectKind(pick, JsonValue::Kind::Int, "an argument index"))
        return false;
      if (pick.integer < 0 ||
          pick.integer >= static_cast<int64_t>(sequence.args.size()))
        return fail(pick, "argument index " + std::to_string(pick.integer) +
                              " is outside the sequence's " +
                              std::to_string(sequence.args.size()));
      launch.args.push_back(static_cast<int>(pick.integer));
    }
    sequence.launches.push_back(std::move(launch));
  }
  context = "sequence: ";
  if (const JsonValue *workspace = v.get("workspace")) {
    if (!expectKind(*workspace, JsonValue::Kind::Array, "\"workspace\""))
      return false;
    for (const JsonValue &buffer : workspace->array) {
      if (!expectKind(buffer, JsonValue::Kind::Object, "a workspace buffer"))
        return false;
      const JsonValue *name = require(buffer, "name");
      if (!name || !expectKind(*name, JsonValue::Kind::String, "\"name\""))
        return false;
      if (!names.count(name->string))
        return fail(*name, "workspace buffer '" + abbreviate(name->string) +
                               "' is not a sequence argument");
      sequence.workspace.push_back(name->string);
    }
  }
  context.clear();
  return true;
}

bool ManifestReader::readKernel(const JsonValue &v, KernelSpec &kernel) {
  if (!expectKind(v, JsonValue::Kind::Object, "a kernel"))
    return false;
  const JsonValue *name = require(v, "name");
  if (!name || !expectKind(*name, JsonValue::Kind::String, "\"name\""))
    return false;
  if (name->string.empty())
    return fail(*name, "\"name\" must not be empty");
  kernel.name = name->string;
  context.insert(context.size() - 2, " ('" + abbreviate(kernel.name) + "')");

  if (const JsonValue *op = v.get("op")) {
    if (!expectKind(*op, JsonValue::Kind::String, "\"op\""))
      return false;
    kernel.op = op->string;
  }
  if (const JsonValue *params = v.get("params"))
    kernel.params = *params;
  else
    kernel.params.kind = JsonValue::Kind::Object;

  // Arguments first: the grid refers to them by name.
  const JsonValue *args = require(v, "args");
  if (!args || !expectKind(*args, JsonValue::Kind::Array, "\"args\""))
    return false;
  argIndex.clear();
  for (size_t i = 0; i < args->array.size(); ++i) {
    ArgSpec arg;
    if (!readArg(args->array[i], i, arg))
      return false;
    if (!argIndex.emplace(arg.name, static_cast<int>(i)).second)
      return fail(*args->array[i].get("name"),
                  "duplicate argument name '" + abbreviate(arg.name) + "'");
    kernel.args.push_back(std::move(arg));
  }
  // Shapes may relate an argument to any other one, earlier or later.
  for (size_t i = 0; i < args->array.size(); ++i)
    if (!readShape(args->array[i], i, kernel))
      return false;

  const JsonValue *block = require(v, "block");
  if (!block)
    return false;
  if (!block->isArray() || block->array.empty() || block->array.size() > 3)
    return fail(*block, "\"block\" must be an array of 1 to 3 positive "
                        "integers");
  for (size_t d = 0; d < block->array.size(); ++d) {
    const JsonValue &e = block->array[d];
    if (!e.isInt() || e.integer < 1 || e.integer > 1024)
      return fail(e, "block dimension " + std::to_string(d) +
                         " must be an integer in [1, 1024]");
    kernel.block[d] = static_cast<uint32_t>(e.integer);
  }

  const JsonValue *grid = require(v, "grid");
  if (!grid)
    return false;
  if (!grid->isArray() || grid->array.empty() || grid->array.size() > 3)
    return fail(*grid, "\"grid\" must be an array of 1 to 3 expressions");
  for (size_t d = 0; d < grid->array.size(); ++d)
    if (!readGridExpr(grid->array[d], kernel, kernel.grid[d], 0))
      return false;

  if (const JsonValue *shmem = v.get("dynamic_shared_memory")) {
    if (!shmem->isInt() || shmem->integer < 0 ||
        shmem->integer > std::numeric_limits<uint32_t>::max())
      return fail(*shmem, "\"dynamic_shared_memory\" must be a non-negative "
                          "integer (bytes)");
    kernel.dynamicSharedMemory = static_cast<uint32_t>(shmem->integer);
  }
  return true;
}

bool ManifestReader::readArg(const JsonValue &v, size_t index, ArgSpec &arg) {
  std::string what = "args[" + std::to_string(index) + "]";
  if (!expectKind(v, JsonValue::Kind::Object, what))
    return false;
  const JsonValue *name = require(v, "name");
  if (!name || !expectKind(*name, JsonValue::Kind::String, what + ".name"))
    return false;
  if (name->string.empty())
    return fail(*name, what + ".name must not be empty");
  arg.name = name->string;
  what += " ('" + abbreviate(arg.name) + "')";

  const JsonValue *kind = require(v, "kind");
  if (!kind || !expectKind(*kind, JsonValue::Kind::String, what + ".kind"))
    return false;
  if (kind->string == "memref")
    arg.kind = ArgKind::Memref;
  else if (kind->string == "scalar")
    arg.kind = ArgKind::Scalar;
  else
    return fail(*kind, what + ": unknown kind '" + abbreviate(kind->string) +
                           "' (expected \"memref\" or \"scalar\")");

  const JsonValue *dtype = require(v, "dtype");
  if (!dtype || !expectKind(*dtype, JsonValue::Kind::String, what + ".dtype"))
    return false;
  arg.dtype = parseDtype(dtype->string);
  if (arg.dtype == FIMLIR_DTYPE_INVALID)
    return fail(*dtype,
                what + ": unknown dtype '" + abbreviate(dtype->string) + "'");

  if (arg.kind == ArgKind::Scalar) {
    if (!isScalarDtype(arg.dtype))
      return fail(*dtype, what +
                              ": scalar dtype must be i32, i64, f32 or "
                              "f64, got '" +
                              abbreviate(dtype->string) + "'");
    if (const JsonValue *rank = v.get("rank"))
      if (!rank->isInt() || rank->integer != 0)
        return fail(*rank, what + ": a scalar has no rank");
    if (const JsonValue *multiple = v.get("multiple_of")) {
      if (!isIntegerDtype(arg.dtype))
        return fail(*multiple, what + ": \"multiple_of\" needs an integer "
                                      "scalar");
      if (!multiple->isInt() || multiple->integer < 1)
        return fail(*multiple,
                    what + ".multiple_of must be a positive integer");
      arg.multipleOf = multiple->integer;
    }
    return true;
  }

  const JsonValue *rank = require(v, "rank");
  if (!rank)
    return false;
  if (!rank->isInt() || rank->integer < 0 || rank->integer > FIMLIR_MAX_RANK)
    return fail(*rank, what + ".rank must be an integer in [0, " +
                           std::to_string(FIMLIR_MAX_RANK) + "]");
  arg.rank = static_cast<int>(rank->integer);

  if (const JsonValue *layout = v.get("layout")) {
    if (!expectKind(*layout, JsonValue::Kind::String, what + ".layout"))
      return false;
    if (layout->string == "contiguous")
      arg.layout = MemrefLayout::Contiguous;
    else if (layout->string == "strided")
      arg.layout = MemrefLayout::Strided;
    else
      return fail(*layout, what + ": unknown layout (expected \"contiguous\" "
                                  "or \"strided\")");
  }
  if (const JsonValue *align = v.get("align")) {
    if (!align->isInt() || align->integer < 1 || align->integer > 4096 ||
        (align->integer & (align->integer - 1)))
      return fail(*align, what + ".align must be a power of two in [1, 4096] "
                                 "(bytes)");
    arg.alignBytes = align->integer;
  }
  return true;
}

bool ManifestReader::readShape(const JsonValue &v, size_t index,
                               KernelSpec &kernel) {
  const JsonValue *shape = v.get("shape");
  if (!shape)
    return true;
  ArgSpec &arg = kernel.args[index];
  std::string what =
      "args[" + std::to_string(index) + "] ('" + arg.name + "').shape";
  if (arg.kind != ArgKind::Memref)
    return fail(*shape, what + ": a scalar has no shape");
  if (!shape->isArray() || shape->array.size() != static_cast<size_t>(arg.rank))
    return fail(*shape, what + " must be an array of " +
                            std::to_string(arg.rank) +
                            " entries (an integer, -1 for any size, or an "
                            "expression)");
  std::vector<std::optional<GridExpr>> dims;
  for (size_t d = 0; d < shape->array.size(); ++d) {
    const JsonValue &e = shape->array[d];
    if (e.isInt() && e.integer == -1) {
      dims.emplace_back();
      continue;
    }
    if (e.isInt() && e.integer < -1)
      return fail(e, what + " entries must be >= -1 or expressions");
    exprWhere = what + "[" + std::to_string(d) + "]";
    GridExpr expr;
    bool ok = readGridExpr(e, kernel, expr, 0);
    exprWhere = "grid";
    if (!ok)
      return false;
    dims.push_back(std::move(expr));
  }
  kernel.args[index].shape = std::move(dims);
  return true;
}

bool ManifestReader::readArgDim(const JsonValue &v, const KernelSpec &kernel,
                                const char *opName, size_t arity,
                                GridExpr &expr) {
  std::string form = std::string("\"") + opName + "\" takes [arg_name, dim" +
                     (arity == 3 ? ", divisor]" : "]");
  if (!v.isArray() || v.array.size() != arity)
    return fail(v, form);
  const JsonValue &name = v.array[0];
  if (!name.isString())
    return fail(name, form + ": the argument name must be a string");
  auto found = argIndex.find(name.string);
  expr.arg = found == argIndex.end() ? -1 : found->second;
  if (expr.arg < 0)
    return fail(name, exprWhere + ": \"" + opName +
                          "\" refers to unknown argument '" +
                          abbreviate(name.string) + "'");
  const ArgSpec &arg = kernel.args[expr.arg];
  if (arg.kind != ArgKind::Memref)
    return fail(name, exprWhere + ": \"" + opName + "\" refers to '" +
                          abbreviate(arg.name) + "', which is not a memref");
  const JsonValue &dim = v.array[1];
  if (!dim.isInt() || dim.integer < 0 || dim.integer >= arg.rank)
    return fail(dim, exprWhere + ": \"" + opName + "\" dimension of '" +
                         abbreviate(arg.name) + "' must be an integer in [0, " +
                         std::to_string(arg.rank) + ")");
  expr.dim = static_cast<int>(dim.integer);
  if (arity == 3) {
    const JsonValue &divisor = v.array[2];
    if (divisor.kind == JsonValue::Kind::String) {
      // A scalar argument; "multiple_of" makes checkArgs reject values < 1.
      auto byName = argIndex.find(divisor.string);
      if (byName != argIndex.end())
        expr.divisorArg = byName->second;
      if (expr.divisorArg < 0 ||
          kernel.args[expr.divisorArg].kind != ArgKind::Scalar ||
          kernel.args[expr.divisorArg].multipleOf < 1)
        return fail(divisor, exprWhere + ": \"ceil_div\" divisor '" +
                                 abbreviate(divisor.string) +
                                 "' must name an integer scalar argument "
                                 "with \"multiple_of\"");
      return true;
    }
    if (!divisor.isInt() || divisor.integer < 1)
      return fail(divisor, exprWhere + ": \"ceil_div\" divisor must be a "
                                       "positive integer or the name of a "
                                       "scalar argument");
    expr.divisor = divisor.integer;
  }
  return true;
}

bool ManifestReader::readGridExpr(const JsonValue &v, const KernelSpec &kernel,
                                  GridExpr &expr, unsigned depth,
                                  bool signedConstant) {
  if (depth > 16)
    return fail(v, exprWhere + " expression nested too deeply");
  if (v.isInt()) {
    // An operand of "add" may be negative ("batch = qo_indptr's length -
    // 1"); every evaluated size and grid dimension is checked at launch.
    constexpr int64_t kMax = std::numeric_limits<uint32_t>::max();
    if (signedConstant ? (v.integer < -kMax || v.integer > kMax)
                       : (v.integer < 0 || v.integer > kMax))
      return fail(v,
                  exprWhere + (signedConstant
                                   ? " constant must be in [-4294967295, "
                                     "4294967295]"
                                   : " constant must be in [0, 4294967295]"));
    expr.op = GridExpr::Op::Constant;
    expr.value = v.integer;
    return true;
  }
  if (!v.isObject() || v.object.size() != 1)
    return fail(v, exprWhere + " entry must be an integer or an object with "
                               "one key of \"dim\", \"ceil_div\", \"mul\", "
                               "\"add\", \"min\"");
  const std::string &key = v.object[0].first;
  const JsonValue &operand = v.object[0].second;
  if (key == "dim") {
    expr.op = GridExpr::Op::Dim;
    return readArgDim(operand, kernel, "dim", 2, expr);
  }
  if (key == "ceil_div") {
    expr.op = GridExpr::Op::CeilDiv;
    return readArgDim(operand, kernel, "ceil_div", 3, expr);
  }
  if (key == "mul" || key == "add" || key == "min") {
    expr.op = key == "mul"   ? GridExpr::Op::Mul
              : key == "add" ? GridExpr::Op::Add
                             : GridExpr::Op::Min;
    if (!operand.isArray() || operand.array.size() != 2)
      return fail(operand, "\"" + key + "\" takes [expr, expr]");
    expr.operands.resize(2);
    for (size_t i = 0; i < 2; ++i)
      if (!readGridExpr(operand.array[i], kernel, expr.operands[i], depth + 1,
                        expr.op == GridExpr::Op::Add))
        return false;
    return true;
  }
  return fail(v, exprWhere + ": unknown operator \"" + abbreviate(key) +
                     "\" (expected \"dim\", \"ceil_div\", \"mul\", \"add\" or "
                     "\"min\")");
}

bool parseManifest(std::string_view text, const std::string &source,
                   Manifest &out, std::string &error) {
  out = Manifest();
  JsonValue root;
  std::string jsonError;
  if (!parseJson(text, root, jsonError)) {
    error = source + ":" + jsonError;
    return false;
  }
  ManifestReader reader(source, error);
  return reader.read(root, out);
}

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

static std::string formatDouble(double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

static std::string kernelPrefix(const KernelSpec &kernel) {
  return "kernel '" + abbreviate(kernel.name) + "': ";
}

static std::string argPrefix(const KernelSpec &kernel, int index) {
  return kernelPrefix(kernel) + "argument " + std::to_string(index) + " '" +
         abbreviate(kernel.args[index].name) + "': ";
}

static std::string describeExpected(const ArgSpec &spec) {
  if (spec.kind == ArgKind::Scalar)
    return std::string("scalar ") + dtypeName(spec.dtype);
  return "memref of rank " + std::to_string(spec.rank);
}

static bool checkScalar(const KernelSpec &kernel, int index,
                        const fimlir_scalar &s, std::string &error) {
  const ArgSpec &spec = kernel.args[index];
  if (!isIntegerDtype(s.dtype) && s.dtype != FIMLIR_DTYPE_F32 &&
      s.dtype != FIMLIR_DTYPE_F64) {
    error = argPrefix(kernel, index) + "unsupported scalar dtype " +
            dtypeNameOrInvalid(s.dtype) + " (" + std::to_string(s.dtype) + ")";
    return false;
  }
  bool givenInt = isIntegerDtype(s.dtype);
  switch (spec.dtype) {
  case FIMLIR_DTYPE_I32:
  case FIMLIR_DTYPE_I64:
    if (!givenInt) {
      error = argPrefix(kernel, index) + "expected integer scalar " +
              dtypeName(spec.dtype) + ", got " + dtypeNameOrInvalid(s.dtype) +
              " value " + formatDouble(s.value.f);
      return false;
    }
    if (spec.dtype == FIMLIR_DTYPE_I32 &&
        (s.value.i < std::numeric_limits<int32_t>::min() ||
         s.value.i > std::numeric_limits<int32_t>::max())) {
      error = argPrefix(kernel, index) + "value " + std::to_string(s.value.i) +
              " does not fit in i32";
      return false;
    }
    if (spec.multipleOf > 0 &&
        (s.value.i < 1 || s.value.i % spec.multipleOf != 0)) {
      error = argPrefix(kernel, index) + "value " + std::to_string(s.value.i) +
              " must be a positive multiple of " +
              std::to_string(spec.multipleOf);
      return false;
    }
    return true;
  case FIMLIR_DTYPE_F32: {
    double v = givenInt ? static_cast<double>(s.value.i) : s.value.f;
    if (std::isfinite(v) && std::fabs(v) > FLT_MAX) {
      error = argPrefix(kernel, index) + "value " + formatDouble(v) +
              " does not fit in f32";
      return false;
    }
    return true;
  }
  default:
    return true;
  }
}

static bool evalGrid(const GridExpr &e, const fimlir_arg *args, int64_t &out);

// "q.shape[0]", "ceil_div(k.shape[0], kv_chunk)", for messages.
static std::string describeExpr(const KernelSpec &kernel, const GridExpr &e) {
  switch (e.op) {
  case GridExpr::Op::Constant:
    return std::to_string(e.value);
  case GridExpr::Op::Dim:
    return kernel.args[e.arg].name + ".shape[" + std::to_string(e.dim) + "]";
  case GridExpr::Op::CeilDiv:
    return "ceil_div(" + kernel.args[e.arg].name + ".shape[" +
           std::to_string(e.dim) + "], " +
           (e.divisorArg >= 0 ? kernel.args[e.divisorArg].name
                              : std::to_string(e.divisor)) +
           ")";
  case GridExpr::Op::Mul:
    return describeExpr(kernel, e.operands[0]) + " * " +
           describeExpr(kernel, e.operands[1]);
  case GridExpr::Op::Add:
    return describeExpr(kernel, e.operands[0]) + " + " +
           describeExpr(kernel, e.operands[1]);
  case GridExpr::Op::Min:
    return "min(" + describeExpr(kernel, e.operands[0]) + ", " +
           describeExpr(kernel, e.operands[1]) + ")";
  }
  return "?";
}

static int64_t elementBytes(fimlir_dtype dtype) {
  switch (dtype) {
  case FIMLIR_DTYPE_F16:
  case FIMLIR_DTYPE_BF16:
  case FIMLIR_DTYPE_I16:
    return 2;
  case FIMLIR_DTYPE_F32:
  case FIMLIR_DTYPE_I32:
    return 4;
  case FIMLIR_DTYPE_F64:
  case FIMLIR_DTYPE_I64:
    return 8;
  default:
    return 1;
  }
}

// The shape relations, layout and alignment of memref argument `i`, whose
// kind, dtype and rank already passed.
static bool checkMemref(const KernelSpec &kernel, int i, const fimlir_arg *args,
                        std::string &error) {
  const ArgSpec &spec = kernel.args[i];
  const fimlir_tensor &t = args[i].u.tensor;
  for (int d = 0; d < static_cast<int>(spec.shape.size()); ++d) {
    if (!spec.shape[d])
      continue;
    int64_t expected = 0;
    if (!evalGrid(*spec.shape[d], args, expected)) {
      error = argPrefix(kernel, i) + "cannot evaluate the size of dimension " +
              std::to_string(d) + " (" + describeExpr(kernel, *spec.shape[d]) +
              ")";
      return false;
    }
    if (expected == t.sizes[d])
      continue;
    error =
        argPrefix(kernel, i) + "dimension " + std::to_string(d) + " must be ";
    if (spec.shape[d]->op == GridExpr::Op::Constant)
      error += std::to_string(expected);
    else
      error += describeExpr(kernel, *spec.shape[d]) + " = " +
               std::to_string(expected);
    error += ", got " + std::to_string(t.sizes[d]);
    return false;
  }

  // Strides of dimensions of size <= 1 are never used to address.
  bool empty = false;
  for (int d = 0; d < t.rank; ++d)
    empty |= t.sizes[d] == 0;
  if (empty)
    return true;
  auto stridesText = [&] {
    std::string text = "[";
    for (int d = 0; d < t.rank; ++d)
      text += (d ? ", " : "") + std::to_string(t.strides[d]);
    return text + "]";
  };
  if (spec.layout == MemrefLayout::Contiguous) {
    int64_t expected = 1;
    for (int d = t.rank - 1; d >= 0; --d) {
      if (t.sizes[d] > 1 && t.strides[d] != expected) {
        error = argPrefix(kernel, i) +
                "must be contiguous (row-major), got "
                "strides " +
                stridesText();
        return false;
      }
      if (d > 0 && __builtin_mul_overflow(expected, t.sizes[d], &expected)) {
        error = argPrefix(kernel, i) + "size overflows";
        return false;
      }
    }
  } else {
    for (int d = 0; d < t.rank; ++d) {
      if (t.sizes[d] <= 1)
        continue;
      if (t.strides[d] < 0) {
        error = argPrefix(kernel, i) + "negative stride " +
                std::to_string(t.strides[d]) + " in dimension " +
                std::to_string(d);
        return false;
      }
      if (d == t.rank - 1 && t.strides[d] != 1) {
        error = argPrefix(kernel, i) +
                "innermost stride must be 1, got "
                "strides " +
                stridesText();
        return false;
      }
    }
  }
  if (spec.alignBytes > 1) {
    int64_t bytes = elementBytes(spec.dtype);
    if (reinterpret_cast<uintptr_t>(t.data) % spec.alignBytes) {
      error = argPrefix(kernel, i) + "data pointer must be aligned to " +
              std::to_string(spec.alignBytes) + " bytes";
      return false;
    }
    for (int d = 0; d + 1 < t.rank; ++d) {
      if (t.sizes[d] <= 1)
        continue;
      int64_t strideBytes = 0;
      if (__builtin_mul_overflow(t.strides[d], bytes, &strideBytes) ||
          strideBytes % spec.alignBytes) {
        error = argPrefix(kernel, i) + "stride of dimension " +
                std::to_string(d) + " (" + std::to_string(t.strides[d]) +
                " elements) must be a multiple of " +
                std::to_string(spec.alignBytes) + " bytes";
        return false;
      }
    }
  }
  return true;
}

bool checkArgs(const KernelSpec &kernel, const fimlir_arg *args, int nargs,
               std::string &error) {
  if (nargs < 0 || (nargs > 0 && !args)) {
    error = kernelPrefix(kernel) + "invalid argument array";
    return false;
  }
  if (static_cast<size_t>(nargs) != kernel.args.size()) {
    error = kernelPrefix(kernel) + "expected " +
            std::to_string(kernel.args.size()) + " arguments, got " +
            std::to_string(nargs);
    return false;
  }
  for (int i = 0; i < nargs; ++i) {
    const ArgSpec &spec = kernel.args[i];
    const fimlir_arg &arg = args[i];
    if (arg.kind != FIMLIR_ARG_TENSOR && arg.kind != FIMLIR_ARG_SCALAR) {
      error = argPrefix(kernel, i) + "invalid argument kind " +
              std::to_string(arg.kind);
      return false;
    }
    bool isTensor = arg.kind == FIMLIR_ARG_TENSOR;
    if (spec.kind == ArgKind::Scalar) {
      if (isTensor) {
        error = argPrefix(kernel, i) + "expected " + describeExpected(spec) +
                ", got tensor";
        return false;
      }
      if (!checkScalar(kernel, i, arg.u.scalar, error))
        return false;
      continue;
    }
    if (!isTensor) {
      error = argPrefix(kernel, i) + "expected " + describeExpected(spec) +
              ", got scalar";
      return false;
    }
    const fimlir_tensor &t = arg.u.tensor;
    if (t.rank < 0 || t.rank > FIMLIR_MAX_RANK) {
      error = argPrefix(kernel, i) + "invalid tensor rank " +
              std::to_string(t.rank);
      return false;
    }
    if (t.rank != spec.rank) {
      error = argPrefix(kernel, i) + "expected " + describeExpected(spec) +
              ", got rank " + std::to_string(t.rank);
      return false;
    }
    if (t.dtype != spec.dtype) {
      error = argPrefix(kernel, i) + "expected dtype " + dtypeName(spec.dtype) +
              ", got " + dtypeNameOrInvalid(t.dtype);
      return false;
    }
    bool empty = false;
    for (int d = 0; d < t.rank; ++d) {
      if (t.sizes[d] < 0) {
        error = argPrefix(kernel, i) + "size of dimension " +
                std::to_string(d) + " is negative (" +
                std::to_string(t.sizes[d]) + ")";
        return false;
      }
      empty |= t.sizes[d] == 0;
    }
    if (!t.data && !empty) {
      error = argPrefix(kernel, i) + "null data pointer";
      return false;
    }
  }
  // Every argument is well-formed: now the relations between them.
  for (int i = 0; i < nargs; ++i)
    if (kernel.args[i].kind == ArgKind::Memref &&
        !checkMemref(kernel, i, args, error))
      return false;
  return true;
}

static bool evalGrid(const GridExpr &e, const fimlir_arg *args, int64_t &out) {
  switch (e.op) {
  case GridExpr::Op::Constant:
    out = e.value;
    return true;
  case GridExpr::Op::Dim:
    out = args[e.arg].u.tensor.sizes[e.dim];
    return true;
  case GridExpr::Op::CeilDiv: {
    int64_t size = args[e.arg].u.tensor.sizes[e.dim];
    int64_t divisor =
        e.divisorArg >= 0 ? args[e.divisorArg].u.scalar.value.i : e.divisor;
    if (divisor < 1)
      return false;
    out = size / divisor + (size % divisor != 0);
    return true;
  }
  case GridExpr::Op::Mul: {
    int64_t a, b;
    if (!evalGrid(e.operands[0], args, a) || !evalGrid(e.operands[1], args, b))
      return false;
    return !__builtin_mul_overflow(a, b, &out);
  }
  case GridExpr::Op::Add: {
    int64_t a, b;
    if (!evalGrid(e.operands[0], args, a) || !evalGrid(e.operands[1], args, b))
      return false;
    return !__builtin_add_overflow(a, b, &out);
  }
  case GridExpr::Op::Min: {
    int64_t a, b;
    if (!evalGrid(e.operands[0], args, a) || !evalGrid(e.operands[1], args, b))
      return false;
    out = std::min(a, b);
    return true;
  }
  }
  return false;
}

bool computeLaunch(const KernelSpec &kernel, const fimlir_arg *args,
                   LaunchDims &out, std::string &error) {
  static const char *kAxis[] = {"x", "y", "z"};
  for (int d = 0; d < 3; ++d) {
    int64_t value = 0;
    if (!evalGrid(kernel.grid[d], args, value) || value < 0 ||
        value > std::numeric_limits<uint32_t>::max()) {
      error = kernelPrefix(kernel) + "grid dimension " + kAxis[d] +
              " is out of range" +
              (value > 0 ? " (" + std::to_string(value) + ")" : "");
      return false;
    }
    out.grid[d] = static_cast<uint32_t>(value);
  }
  out.block = kernel.block;
  out.dynamicSharedMemory = kernel.dynamicSharedMemory;
  return true;
}

void packParams(const KernelSpec &kernel, const fimlir_arg *args,
                PackedParams &out) {
  out.storage.clear();
  out.pointers.clear();
  out.storage.reserve(kernel.numParams());
  auto push = [&](const void *bytes, size_t size) {
    uint64_t slot = 0;
    std::memcpy(&slot, bytes, size);
    out.storage.push_back(slot);
  };
  for (size_t i = 0; i < kernel.args.size(); ++i) {
    const ArgSpec &spec = kernel.args[i];
    if (spec.kind == ArgKind::Memref) {
      const fimlir_tensor &t = args[i].u.tensor;
      int64_t offset = 0;
      push(&t.data, sizeof(void *)); // allocated
      push(&t.data, sizeof(void *)); // aligned
      push(&offset, sizeof(offset));
      for (int d = 0; d < t.rank; ++d)
        push(&t.sizes[d], sizeof(int64_t));
      for (int d = 0; d < t.rank; ++d)
        push(&t.strides[d], sizeof(int64_t));
      continue;
    }
    const fimlir_scalar &s = args[i].u.scalar;
    bool givenInt = isIntegerDtype(s.dtype);
    switch (spec.dtype) {
    case FIMLIR_DTYPE_I32: {
      int32_t v = static_cast<int32_t>(s.value.i);
      push(&v, sizeof(v));
      break;
    }
    case FIMLIR_DTYPE_I64: {
      int64_t v = s.value.i;
      push(&v, sizeof(v));
      break;
    }
    case FIMLIR_DTYPE_F32: {
      float v = givenInt ? static_cast<float>(s.value.i)
                         : static_cast<float>(s.value.f);
      push(&v, sizeof(v));
      break;
    }
    default: {
      double v = givenInt ? static_cast<double>(s.value.i) : s.value.f;
      push(&v, sizeof(v));
      break;
    }
    }
  }
  // Storage no longer grows, so pointers into it stay valid.
  for (uint64_t &slot : out.storage)
    out.pointers.push_back(&slot);
}

//===----------------------------------------------------------------------===//
// Launch sequences
//===----------------------------------------------------------------------===//

bool checkSequenceArgs(const Manifest &manifest, const fimlir_arg *args,
                       int nargs, std::vector<std::vector<fimlir_arg>> &picked,
                       std::string &error) {
  const SequenceSpec &sequence = *manifest.sequence;
  if (nargs != static_cast<int>(sequence.args.size())) {
    error = "expected " + std::to_string(sequence.args.size()) +
            " arguments, got " + std::to_string(nargs);
    return false;
  }
  picked.assign(sequence.launches.size(), {});
  for (size_t i = 0; i < sequence.launches.size(); ++i) {
    const LaunchSpec &launch = sequence.launches[i];
    const KernelSpec &spec = manifest.kernels[launch.kernel];
    for (int a : launch.args)
      picked[i].push_back(args[a]);
    LaunchDims dims;
    std::string why;
    if (!checkArgs(spec, picked[i].data(), static_cast<int>(picked[i].size()),
                   why) ||
        !computeLaunch(spec, picked[i].data(), dims, why)) {
      error = "launch " + std::to_string(i) + " of the sequence: " + why;
      return false;
    }
  }
  return true;
}

} // namespace fimlir
