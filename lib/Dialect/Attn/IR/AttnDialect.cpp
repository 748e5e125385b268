//===- AttnDialect.cpp - attn dialect -------------------------------------===//

#include "flashinfer/Dialect/Attn/IR/AttnDialect.h"
#include "flashinfer/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

/// `[a, b, ...]`, possibly empty: integer lists of #attn.kernel and
/// #attn.launch.
static ParseResult parseIntList(AsmParser &parser,
                                SmallVector<int64_t> &values) {
  return parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
    return parser.parseInteger(values.emplace_back());
  });
}
static void printIntList(AsmPrinter &printer, ArrayRef<int64_t> values) {
  printer << '[';
  llvm::interleaveComma(values, printer);
  printer << ']';
}

#include "flashinfer/Dialect/Attn/IR/AttnDialect.cpp.inc"
#include "flashinfer/Dialect/Attn/IR/AttnEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "flashinfer/Dialect/Attn/IR/AttnAttrs.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "flashinfer/Dialect/Attn/IR/AttnOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "flashinfer/Dialect/Attn/IR/AttnAttrs.cpp.inc"
      >();
}

LogicalResult
MatrixInstructionAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              StringRef name) {
  if (!getMatrixInstrByName(name))
    return emitError() << "unknown matrix instruction \"" << name << "\"";
  return success();
}

MatrixInstr MatrixInstructionAttr::getInstr() const {
  return *getMatrixInstrByName(getName());
}

LogicalResult KernelAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef name, StringRef op,
                                 DictionaryAttr params, ArrayRef<int64_t> block,
                                 ArrayAttr grid, int64_t staticSharedMemory,
                                 ArrayAttr args) {
  if (name.empty())
    return emitError() << "#attn.kernel needs a name";
  if (block.size() != 3 || llvm::any_of(block, [](int64_t b) { return b < 1; }))
    return emitError() << "#attn.kernel '" << name
                       << "': block must be 3 positive sizes";
  if (grid.size() != 3)
    return emitError() << "#attn.kernel '" << name
                       << "': grid must have 3 entries";
  if (staticSharedMemory < 0)
    return emitError() << "#attn.kernel '" << name
                       << "': static_shared_memory must be >= 0";
  for (auto [i, arg] : llvm::enumerate(args)) {
    auto entry = dyn_cast<DictionaryAttr>(arg);
    if (!entry || !entry.getAs<StringAttr>("name"))
      return emitError() << "#attn.kernel '" << name << "': argument " << i
                         << " must be a dictionary with a string 'name'";
  }
  return success();
}

StringRef KernelAttr::getArgName(unsigned i) const {
  return cast<DictionaryAttr>(getArgs()[i]).getAs<StringAttr>("name");
}

LogicalResult AttnDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == MatrixInstructionAttrHelper::getNameStr()) {
    if (!isa<MatrixInstructionAttr>(attribute.getValue()))
      return op->emitError()
             << "'" << name << "' must be a #attn.matrix_instruction";
    return success();
  }
  return op->emitError() << "unknown attn dialect attribute '" << name << "'";
}

LogicalResult
Llama31ScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                           APFloat lowFreqFactor, APFloat highFreqFactor,
                           APFloat oldContextLen) {
  float low = lowFreqFactor.convertToFloat(),
        high = highFreqFactor.convertToFloat(),
        context = oldContextLen.convertToFloat();
  // The smoothing divides by high - low; an empty band has no ramp.
  if (!(low > 0.0f) || !(high > low) || !std::isfinite(high))
    return emitError() << "llama31_scaling needs 0 < low_freq_factor < "
                          "high_freq_factor, got "
                       << low << " and " << high;
  if (!(context > 0.0f) || !std::isfinite(context))
    return emitError() << "llama31_scaling needs old_context_len > 0, got "
                       << context;
  return success();
}

LogicalResult RotaryAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 APFloat theta, APFloat scale) {
  float t = theta.convertToFloat(), s = scale.convertToFloat();
  if (!(t > 0.0f) || !std::isfinite(t) || !(s > 0.0f) || !std::isfinite(s))
    return emitError() << "rotary needs finite theta > 0 and scale > 0, got "
                       << t << " and " << s;
  return success();
}

Value RotaryAttr::buildAngles(OpBuilder &b, Location loc, Value pairs,
                              Value pos, int64_t dim, Value theta,
                              Value scale) const {
  Type type = pairs.getType();
  auto vector = dyn_cast<VectorType>(type);
  auto constant = [&](double v) -> Value {
    Attribute value = b.getF32FloatAttr(static_cast<float>(v));
    if (vector)
      value = DenseElementsAttr::get(vector, static_cast<float>(v));
    return arith::ConstantOp::create(b, loc, cast<TypedAttr>(value));
  };
  auto splat = [&](Value scalar) -> Value {
    return vector ? vector::BroadcastOp::create(b, loc, vector, scalar)
                  : scalar;
  };
  // theta^(-2i/dim) = 2^(i * (-2 log2(theta) / dim)); one builder call per
  // statement so that the IR does not depend on argument evaluation order.
  Value perPair, rcpScale;
  if (theta) {
    Value log2Theta = math::Log2Op::create(b, loc, theta);
    Value factor = arith::ConstantOp::create(
        b, loc, b.getF32FloatAttr(-2.0f / static_cast<float>(dim)));
    perPair = splat(arith::MulFOp::create(b, loc, log2Theta, factor));
  } else {
    double t = getTheta().convertToFloat();
    perPair = constant(-2.0 * std::log2(t) / static_cast<double>(dim));
  }
  if (scale) {
    Value one = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0f));
    rcpScale = splat(arith::DivFOp::create(b, loc, one, scale));
  } else {
    rcpScale = constant(1.0 / getScale().convertToFloat());
  }
  Value exponent = arith::MulFOp::create(b, loc, pairs, perPair);
  Value freq = math::Exp2Op::create(b, loc, exponent);
  Value scaled = arith::MulFOp::create(b, loc, freq, rcpScale);
  return arith::MulFOp::create(b, loc, pos, scaled);
}

std::pair<Value, Value> RotaryAttr::buildRotation(OpBuilder &b, Location loc,
                                                  Value x, Value y,
                                                  Value angle) {
  Value cos = math::CosOp::create(b, loc, angle);
  Value sin = math::SinOp::create(b, loc, angle);
  return rotatePair(b, loc, x, y, cos, sin);
}

std::pair<Value, Value> RotaryAttr::rotatePair(OpBuilder &b, Location loc,
                                               Value x, Value y, Value cos,
                                               Value sin) {
  Value xCos = arith::MulFOp::create(b, loc, x, cos);
  Value ySin = arith::MulFOp::create(b, loc, y, sin);
  Value yCos = arith::MulFOp::create(b, loc, y, cos);
  Value xSin = arith::MulFOp::create(b, loc, x, sin);
  Value xOut = arith::SubFOp::create(b, loc, xCos, ySin);
  Value yOut = arith::AddFOp::create(b, loc, yCos, xSin);
  return {xOut, yOut};
}

bool mlir::attn::isFloat8KVType(Type type) {
  return isa<Float8E4M3FNType, Float8E4M3FNUZType>(type);
}

Value mlir::attn::buildFloat8Extension(OpBuilder &b, Location loc, Value x,
                                       Type elemType) {
  Type f8 = getElementTypeOrSelf(x.getType());
  bool fnuz = isa<Float8E4M3FNUZType>(f8);
  auto vector = dyn_cast<VectorType>(x.getType());
  auto like = [&](Type elem) -> Type {
    return vector ? Type(vector.clone(elem)) : elem;
  };
  auto constant = [&](Type elem, Attribute value) -> Value {
    Type type = like(elem);
    if (auto v = dyn_cast<VectorType>(type))
      value = DenseElementsAttr::get(v, value);
    return arith::ConstantOp::create(b, loc, cast<TypedAttr>(value));
  };
  Type i8 = b.getI8Type(), i16 = b.getI16Type(), f16 = b.getF16Type();
  auto i16Const = [&](int64_t v) {
    return constant(i16, b.getIntegerAttr(i16, v));
  };
  // One builder call per statement: the IR must not depend on the host
  // compiler's argument evaluation order.
  Value bits = arith::BitcastOp::create(b, loc, like(i8), x);
  Value wide = arith::ExtUIOp::create(b, loc, like(i16), bits);
  Value magnitude = arith::AndIOp::create(b, loc, wide, i16Const(0x7F));
  Value sign = arith::AndIOp::create(b, loc, wide, i16Const(0x80));
  Value magnitudeBits = arith::ShLIOp::create(b, loc, magnitude, i16Const(7));
  Value signBit = arith::ShLIOp::create(b, loc, sign, i16Const(8));
  Value f16Bits = arith::OrIOp::create(b, loc, magnitudeBits, signBit);
  Value scaled = arith::BitcastOp::create(b, loc, like(f16), f16Bits);
  Value unscale = constant(f16, b.getF16FloatAttr(fnuz ? 128.0f : 256.0f));
  Value value = arith::MulFOp::create(b, loc, scaled, unscale);
  Value isNaN = fnuz ? arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                             wide, i16Const(0x80))
                           .getResult()
                     : arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                             magnitude, i16Const(0x7F))
                           .getResult();
  Value nan = constant(f16, b.getF16FloatAttr(NAN));
  value = arith::SelectOp::create(b, loc, isNaN, nan, value);
  if (elemType.isF16())
    return value;
  Value f32Value = arith::ExtFOp::create(b, loc, like(b.getF32Type()), value);
  if (elemType.isF32())
    return f32Value;
  // f16 -> bf16 through f32 is exact: every e4m3 value fits bf16.
  return arith::TruncFOp::create(b, loc, like(elemType), f32Value);
}

float Llama31ScalingAttr::getSmoothSlope() const {
  return static_cast<float>(getOldContext() /
                            (2.0 * M_PI * (getHighFreq() - getLowFreq())));
}

float Llama31ScalingAttr::getSmoothOffset() const {
  return static_cast<float>(-getLowFreq() / (getHighFreq() - getLowFreq()));
}

Value Llama31ScalingAttr::buildFrequency(OpBuilder &b, Location loc, Value freq,
                                         Value scaled) const {
  Type type = freq.getType();
  auto constant = [&](float v) -> Value {
    Attribute value = b.getF32FloatAttr(v);
    if (auto vector = dyn_cast<VectorType>(type))
      value = DenseElementsAttr::get(vector, v);
    return arith::ConstantOp::create(b, loc, cast<TypedAttr>(value));
  };
  // One builder call per statement: the IR must not depend on the host
  // compiler's argument evaluation order.
  Value slope = constant(getSmoothSlope());
  Value offset = constant(getSmoothOffset());
  Value zero = constant(0.0f), one = constant(1.0f);
  Value smooth = arith::MulFOp::create(b, loc, freq, slope);
  smooth = arith::AddFOp::create(b, loc, smooth, offset);
  smooth = arith::MaximumFOp::create(b, loc, smooth, zero);
  smooth = arith::MinimumFOp::create(b, loc, smooth, one);
  Value keep = arith::SubFOp::create(b, loc, one, smooth);
  Value low = arith::MulFOp::create(b, loc, keep, scaled);
  Value high = arith::MulFOp::create(b, loc, smooth, freq);
  return arith::AddFOp::create(b, loc, low, high);
}
