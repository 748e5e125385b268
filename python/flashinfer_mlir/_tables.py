"""Argument handling that the batch wrappers (decode.py, prefill.py) share."""


def _torch():
    import torch
    return torch


def host_int32(x, what: str):
    """A 1-D index table (host or device tensor, or a list) as a host int32
    tensor; ValueError naming `what` for anything else."""
    torch = _torch()
    t = x if isinstance(x, torch.Tensor) else \
        torch.tensor(list(x), dtype=torch.int32)
    if t.dtype not in (torch.int32, torch.int64) or t.dim() != 1:
        raise ValueError(f"{what} must be a 1-D int32 tensor, got {t.dtype} "
                         f"of shape {tuple(t.shape)}")
    return t.to("cpu", torch.int32)


def split_paged_cache(paged_kv_cache, what: str):
    """(k_cache, v_cache) from a tuple or one [pages, 2, ...] tensor whose K
    and V halves become views."""
    if isinstance(paged_kv_cache, (tuple, list)):
        if len(paged_kv_cache) != 2:
            raise ValueError(f"{what}: paged_kv_cache must be (k_cache, "
                             f"v_cache) or one [pages, 2, ...] tensor")
        return tuple(paged_kv_cache)
    if paged_kv_cache.dim() != 5 or paged_kv_cache.shape[1] != 2:
        raise ValueError(f"{what}: a single paged cache must be [pages, 2, "
                         f"...] (5-D), got shape "
                         f"{tuple(paged_kv_cache.shape)}")
    return paged_kv_cache[:, 0], paged_kv_cache[:, 1]


def check_page_size(params: dict, k_cache, planned: int, what: str):
    """The cache's page size must be the planned one."""
    slot_dim = 1 if params["kv_layout"] == "nhd" else 2
    if k_cache.dim() == 4 and k_cache.shape[slot_dim] != planned:
        raise ValueError(f"{what}: the cache's page size is "
                         f"{k_cache.shape[slot_dim]}, planned {planned}")


def resolve_page_size(kernel_page_size: int, page_size, what: str) -> int:
    """The page size to plan: the kernel's compiled-in one, or the caller's
    for a kernel that takes any (-1)."""
    if page_size is None:
        if kernel_page_size < 1:
            raise ValueError(f"{what}: the kernel takes any page size; pass "
                             f"page_size")
        return kernel_page_size
    if kernel_page_size >= 1 and page_size != kernel_page_size:
        raise ValueError(f"{what}: the kernel was compiled for page size "
                         f"{kernel_page_size}, got {page_size}")
    return page_size


def pick_kernel(module, kernel, accept, what: str, kind: str):
    """The kernel of `module` named `kernel`, or its one kernel whose params
    `accept`; ValueError (from `what`) naming the candidates otherwise."""
    names = [n for n in module.kernel_names if accept(module.kernel(n).params)]
    if kernel is None:
        if len(names) != 1:
            raise ValueError(f"{what}: {module.manifest_path} holds "
                             f"{len(names)} {kind} kernels {names}; name one")
        kernel = names[0]
    if kernel not in names:
        raise ValueError(f"{what}: '{kernel}' is not a {kind} kernel of "
                         f"{module.manifest_path}")
    return module.kernel(kernel)


def launch_values(params: dict, values, what: str):
    """The kernel's launch-time variant values (its params' "launch_values":
    sm_scale, logits_soft_cap, window_left, those it takes) from `values`, a
    dict by name, in argument order; ValueError naming a missing one."""
    names = params.get("launch_values", [])
    values = values or {}
    missing = [n for n in names if n not in values]
    if missing:
        raise ValueError(f"{what}: the kernel takes {', '.join(missing)} at "
                         "launch")
    return [float(values[n]) if n != "window_left" else int(values[n])
            for n in names]


def variant_tensors(params: dict, sinks, what: str, custom_mask=None):
    """The variant tensors a kernel takes after its outputs, in order (its
    params' "custom_mask", "sinks"); ValueError when one is missing or not
    taken."""
    head = []
    if params.get("custom_mask"):
        if custom_mask is None:
            raise ValueError(f"{what}: the kernel takes a custom mask")
        head = [custom_mask]
    elif custom_mask is not None:
        raise ValueError(f"{what}: this kernel was compiled without a custom "
                         "mask")
    return head + _sinks(params, sinks, what)


def _sinks(params: dict, sinks, what: str):
    if not params.get("sinks"):
        if sinks is not None:
            raise ValueError(f"{what}: this kernel was compiled without "
                             "attention sinks")
        return []
    if sinks is None:
        raise ValueError(f"{what}: the kernel takes sinks (one float32 logit "
                         "per query head)")
    return [sinks]


class WrapperBase:
    """What FlashInfer's batch wrappers share (decode and prefill)."""

    @property
    def is_cuda_graph_enabled(self) -> bool:
        return self._use_cuda_graph

    def reset_workspace_buffer(self, float_workspace_buffer,
                               int_workspace_buffer=None):
        self._float_workspace_buffer = float_workspace_buffer

    def run_return_lse(self, *args, **kwargs):
        kwargs["return_lse"] = True
        return self.run(*args, **kwargs)

    def end_forward(self):
        pass
