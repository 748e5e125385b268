//===- MergeStatesKernel.cpp - attn.merge_states as a GPU kernel ----------===//
//
// Stage 1 of the GPU lowering for attn.merge_states: one workgroup per
// (token, head) row, one thread per output element. Memory-bound: each
// thread reads its element of every state and the states' lse, all loads
// issued before the arithmetic that combines them.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Conversion/AttnToGPU/FlashAttentionKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

FailureOr<gpu::GPUFuncOp> mlir::attn::buildMergeStatesKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    TypeRange valueTypes, RankedTensorType outType) {
  int64_t heads = outType.getDimSize(1), dim = outType.getDimSize(2);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(dim) || dim > 1024)
    return failure();
  MLIRContext *ctx = builder.getContext();
  Type f32 = Float32Type::get(ctx);
  int64_t tokens = outType.getDimSize(0);
  size_t n = valueTypes.size();
  SmallVector<Type> args;
  for (Type t : valueTypes)
    args.push_back(getUserViewType({tokens, heads, dim},
                                   cast<RankedTensorType>(t).getElementType()));
  for (size_t i = 0; i < n; ++i)
    args.push_back(getUserViewType({tokens, heads}, f32));
  args.push_back(
      getUserViewType({tokens, heads, dim}, outType.getElementType()));
  args.push_back(getUserViewType({tokens, heads}, f32));

  OpBuilder::InsertionGuard guard(builder);
  gpu::GPUFuncOp func = createKernel(builder, loc, module, name, args, dim);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  auto cst = [&](float v) {
    return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(v));
  };
  Value negInf = cst(-std::numeric_limits<float>::infinity());
  Value zero = cst(0.0f);
  Value token = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value head = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value d = gpu::ThreadIdOp::create(b, gpu::Dimension::x);

  SmallVector<Value> lse(n), x(n);
  for (size_t i = 0; i < n; ++i) {
    lse[i] = memref::LoadOp::create(b, func.getArgument(n + i),
                                    ValueRange{token, head});
    x[i] = memref::LoadOp::create(b, func.getArgument(i),
                                  ValueRange{token, head, d});
    if (x[i].getType() != f32)
      x[i] = arith::ExtFOp::create(b, f32, x[i]);
  }
  Value m = negInf;
  for (Value l : lse)
    m = arith::MaximumFOp::create(b, m, l);
  // With every state empty (lse -inf) exponentiate against 0: no NaN, and
  // each weight is exactly 0.
  Value mExp = arith::SelectOp::create(
      b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf), zero,
      m);
  Value sum = zero, acc = zero;
  for (size_t i = 0; i < n; ++i) {
    Value w = math::Exp2Op::create(b, arith::SubFOp::create(b, lse[i], mExp));
    // A state with lse -inf adds nothing, whatever its values hold.
    Value used = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, w, zero);
    acc = arith::AddFOp::create(
        b, acc,
        arith::SelectOp::create(b, used, arith::MulFOp::create(b, w, x[i]),
                                zero));
    sum = arith::AddFOp::create(b, sum, w);
  }
  Value positive =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, zero);
  Value out = arith::SelectOp::create(b, positive,
                                      arith::DivFOp::create(b, acc, sum), zero);
  if (outType.getElementType() != f32)
    out = arith::TruncFOp::create(b, outType.getElementType(), out);
  memref::StoreOp::create(b, out, func.getArgument(2 * n),
                          ValueRange{token, head, d});
  Value merged = arith::SelectOp::create(
      b, positive, arith::AddFOp::create(b, mExp, math::Log2Op::create(b, sum)),
      negInf);
  Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, d,
                                      arith::ConstantIndexOp::create(b, 0));
  auto ifOp = scf::IfOp::create(b, first, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    memref::StoreOp::create(b, merged, func.getArgument(2 * n + 1),
                            ValueRange{token, head});
  }
  gpu::ReturnOp::create(b);
  return func;
}
