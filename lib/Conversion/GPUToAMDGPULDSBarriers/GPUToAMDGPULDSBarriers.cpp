//===- GPUToAMDGPULDSBarriers.cpp - barriers that only order LDS ----------===//
//
// Rewrites kernel gpu.barriers to amdgpu.lds_barrier where no global-memory
// write can be ordered by them. The kernel body is viewed as a graph of
// operations: an edge leads from an operation to each one that can run right
// after it, through block successors and through the region successors that
// RegionBranchOpInterface describes. A barrier is rewritten when no operation
// that may write non-workgroup memory is reachable from it, forwards or
// backwards, without passing another gpu.barrier.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Conversion/Passes.h"

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::attn {
#define GEN_PASS_DEF_GPUBARRIERSTOAMDGPULDSBARRIERS
#include "flashinfer/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Memory that other work items cannot see through global memory: LDS
/// (workgroup, address space 3) or the work item's own private memory
/// (address space 5).
bool isWorkgroupOrPrivate(Attribute space) {
  if (auto gpuSpace = dyn_cast_if_present<gpu::AddressSpaceAttr>(space))
    return gpuSpace.getValue() == gpu::AddressSpace::Workgroup ||
           gpuSpace.getValue() == gpu::AddressSpace::Private;
  if (auto intSpace = dyn_cast_if_present<IntegerAttr>(space))
    return intSpace.getInt() == 3 || intSpace.getInt() == 5;
  return false;
}

/// Whether an effect on `value` may touch memory outside the workgroup. A
/// missing value or a type that does not name its address space may.
bool mayBeNonWorkgroupMemory(Value value) {
  if (!value)
    return true;
  Type type = value.getType();
  if (auto memref = dyn_cast<BaseMemRefType>(type))
    return !isWorkgroupOrPrivate(memref.getMemorySpace());
  if (auto ptr = dyn_cast<LLVM::LLVMPointerType>(type))
    return ptr.getAddressSpace() != 3 && ptr.getAddressSpace() != 5;
  return true;
}

/// Whether `op` itself (not the operations nested in it) may write memory
/// outside the workgroup. Unknown effects count as writes.
bool mayWriteNonWorkgroupMemory(Operation *op) {
  if (isa<gpu::BarrierOp, amdgpu::LDSBarrierOp>(op))
    return false;
  auto iface = dyn_cast<MemoryEffectOpInterface>(op);
  if (!iface)
    return !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>();
  SmallVector<MemoryEffects::EffectInstance> effects;
  iface.getEffects(effects);
  return llvm::any_of(effects, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Write, MemoryEffects::Free>(e.getEffect()) &&
           mayBeNonWorkgroupMemory(e.getValue());
  });
}

/// The control-flow graph of one kernel, at the granularity of operations.
/// Operations with regions that do not implement RegionBranchOpInterface are
/// single nodes; their nested operations are not part of the graph.
class KernelGraph {
public:
  /// Builds the graph of `kernel`; fails if some terminator's successors are
  /// not known.
  LogicalResult build(gpu::GPUFuncOp kernel) {
    if (failed(addRegion(kernel.getBody())))
      return failure();
    SmallVector<std::pair<Operation *, Operation *>> edges;
    for (auto &[op, node] : nodes) {
      for (Operation *succ : node.succs)
        edges.emplace_back(op, succ);
    }
    for (auto [from, to] : edges) {
      auto it = nodes.find(to);
      if (it == nodes.end())
        return failure();
      it->second.preds.push_back(from);
    }
    return success();
  }

  /// The barriers that are graph nodes, in program order.
  ArrayRef<gpu::BarrierOp> getBarriers() const { return barriers; }

  /// Whether an operation that may write non-workgroup memory is reachable
  /// from `start` along successor (`forward`) or predecessor edges without
  /// passing a gpu.barrier.
  bool reachesWrite(Operation *start, bool forward) const {
    SmallVector<Operation *> worklist;
    llvm::SmallPtrSet<Operation *, 32> visited;
    auto push = [&](Operation *from) {
      const Node &node = nodes.find(from)->second;
      for (Operation *next : forward ? node.succs : node.preds)
        if (visited.insert(next).second)
          worklist.push_back(next);
    };
    push(start);
    while (!worklist.empty()) {
      Operation *op = worklist.pop_back_val();
      if (isa<gpu::BarrierOp>(op))
        continue;
      if (nodes.find(op)->second.writes)
        return true;
      push(op);
    }
    return false;
  }

private:
  struct Node {
    SmallVector<Operation *, 2> succs, preds;
    bool writes = false;
  };

  LogicalResult addRegion(Region &region) {
    for (Block &block : region) {
      for (Operation &op : block) {
        if (failed(addOp(&op)))
          return failure();
      }
    }
    return success();
  }

  /// The first operation of `region`, where control enters it.
  static Operation *entryOf(Region *region) {
    if (region->empty() || region->front().empty())
      return nullptr;
    return &region->front().front();
  }

  /// Adds the operations that run after `parent` branches to `successors`.
  static LogicalResult addRegionSuccessors(RegionBranchOpInterface parent,
                                           ArrayRef<RegionSuccessor> successors,
                                           SmallVectorImpl<Operation *> &out) {
    for (const RegionSuccessor &succ : successors) {
      Operation *next = succ.isParent() ? parent->getNextNode()
                                        : entryOf(succ.getSuccessor());
      if (!next)
        return failure();
      out.push_back(next);
    }
    return success();
  }

  LogicalResult addOp(Operation *op) {
    Node node;
    auto branch = dyn_cast<RegionBranchOpInterface>(op);
    if (op->getNumRegions() != 0 && !branch) {
      // An opaque region holder is one node standing for everything inside.
      node.writes = op->walk([](Operation *nested) {
                        return mayWriteNonWorkgroupMemory(nested)
                                   ? WalkResult::interrupt()
                                   : WalkResult::advance();
                      }).wasInterrupted();
    } else {
      node.writes = mayWriteNonWorkgroupMemory(op);
    }
    if (auto barrier = dyn_cast<gpu::BarrierOp>(op))
      barriers.push_back(barrier);
    if (failed(addSuccessors(op, node.succs)))
      return failure();
    nodes[op] = std::move(node);
    if (!branch)
      return success();
    for (Region &region : op->getRegions()) {
      if (failed(addRegion(region)))
        return failure();
    }
    return success();
  }

  /// Collects the operations that can run right after `op`.
  static LogicalResult addSuccessors(Operation *op,
                                     SmallVectorImpl<Operation *> &succs) {
    // Entering a region-branch op: its regions or what follows it.
    if (auto branch = dyn_cast<RegionBranchOpInterface>(op);
        branch && op->getNumRegions() != 0) {
      SmallVector<RegionSuccessor> successors;
      branch.getSuccessorRegions(RegionBranchPoint::parent(), successors);
      return addRegionSuccessors(branch, successors, succs);
    }
    if (!op->hasTrait<OpTrait::IsTerminator>()) {
      Operation *next = op->getNextNode();
      if (!next)
        return failure();
      succs.push_back(next);
      return success();
    }
    // Terminators: block successors, the kernel's exit, or the successors
    // that the enclosing region-branch op gives this terminator.
    if (op->getNumSuccessors() != 0) {
      for (Block *succ : op->getSuccessors()) {
        if (succ->empty())
          return failure();
        succs.push_back(&succ->front());
      }
      return success();
    }
    if (isa<gpu::ReturnOp>(op))
      return success();
    auto parent = dyn_cast<RegionBranchOpInterface>(op->getParentOp());
    auto terminator = dyn_cast<RegionBranchTerminatorOpInterface>(op);
    if (!parent || !terminator)
      return failure();
    SmallVector<RegionSuccessor> successors;
    parent.getSuccessorRegions(RegionBranchPoint(terminator), successors);
    return addRegionSuccessors(parent, successors, succs);
  }

  llvm::DenseMap<Operation *, Node> nodes;
  SmallVector<gpu::BarrierOp> barriers;
};

struct GPUBarriersToAMDGPULDSBarriersPass
    : public attn::impl::GPUBarriersToAMDGPULDSBarriersBase<
          GPUBarriersToAMDGPULDSBarriersPass> {
  void runOnOperation() override {
    SmallVector<gpu::BarrierOp> toRewrite;
    for (auto func : getOperation().getOps<gpu::GPUFuncOp>()) {
      if (!func.isKernel())
        continue;
      KernelGraph graph;
      if (failed(graph.build(func)))
        continue;
      // Decide on the original IR: every gpu.barrier delimits the walks,
      // including the ones rewritten, which is sound because the barrier
      // next to a write is always one that is kept.
      for (gpu::BarrierOp barrier : graph.getBarriers()) {
        if (!barrier->getAttrDictionary().empty())
          continue;
        if (!graph.reachesWrite(barrier, /*forward=*/false) &&
            !graph.reachesWrite(barrier, /*forward=*/true))
          toRewrite.push_back(barrier);
      }
    }
    OpBuilder builder(&getContext());
    for (gpu::BarrierOp barrier : toRewrite) {
      builder.setInsertionPoint(barrier);
      amdgpu::LDSBarrierOp::create(builder, barrier.getLoc());
      barrier.erase();
    }
  }
};
} // namespace
