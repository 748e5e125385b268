"""Paged KV cache helpers: appending new tokens (attn.append_paged_kv on the
GPU) and FlashInfer's index helpers.

    from flashinfer_mlir.page import AppendPagedKV, get_batch_indices_positions
    append = AppendPagedKV(Module("append_bf16_d128_h8_nhd_kernels.json"))
    batch_indices, positions = get_batch_indices_positions(
        append_indptr, seq_lens, nnz)
    append(k, v, batch_indices, positions, paged_kv_cache, kv_indices,
           kv_indptr)

The kernel writes token n's K and V rows to slot positions[n] % page_size of
page kv_indices[kv_indptr[b] + positions[n] // page_size], b =
batch_indices[n], in place. A token whose request, position, page-list entry
(it must be one of the request's pages) or page id is out of range is not
written: with validate=True the call reports the first such token instead.
"""

from typing import Optional

from ._tables import pick_kernel, split_paged_cache

__all__ = ["AppendPagedKV", "append_paged_kv_cache",
           "get_batch_indices_positions", "get_seq_lens"]


def _torch():
    import torch
    return torch


def get_seq_lens(kv_indptr, kv_last_page_len, page_size: int):
    """Each request's kv_len from its page table: (pages - 1) * page_size +
    last_page_len, 0 without pages."""
    torch = _torch()
    pages = kv_indptr[1:] - kv_indptr[:-1]
    return torch.where(pages > 0, (pages - 1) * page_size + kv_last_page_len,
                       torch.zeros_like(pages))


def get_batch_indices_positions(append_indptr, seq_lens, nnz: int,
                                batch_indices=None, positions=None):
    """For `nnz` new tokens, request b's being append_indptr[b] ..
    append_indptr[b + 1]: each token's request and its position, the new
    tokens being the last of the request's seq_lens[b] (which include
    them). Rows past append_indptr[-1] get request -1, position 0. Returns
    (batch_indices, positions), int32, on the inputs' device (into the given
    tensors, [nnz] int32, when passed); no host synchronization."""
    torch = _torch()
    dev = append_indptr.device
    indptr = append_indptr.to(torch.int64)
    batch_size = indptr.numel() - 1
    rows = torch.arange(nnz, device=dev)
    batch = torch.searchsorted(indptr[1:].contiguous(), rows, right=True)
    inside = batch < batch_size
    b = torch.where(inside, batch, torch.zeros_like(batch))
    if batch_size > 0:
        counts = indptr[1:] - indptr[:-1]
        pos = seq_lens.to(dev, torch.int64)[b] - counts[b] + rows - indptr[b]
    else:
        pos = torch.zeros_like(rows)
    batch = torch.where(inside, batch, torch.full_like(batch, -1))
    pos = torch.where(inside, pos, torch.zeros_like(pos))
    for name, out in (("batch_indices", batch_indices),
                      ("positions", positions)):
        if out is not None and (tuple(out.shape) != (nnz,) or
                                out.dtype != torch.int32 or
                                out.device != dev):
            raise ValueError(f"get_batch_indices_positions: {name} must be "
                             f"[{nnz}] int32 on {dev}, got "
                             f"{tuple(out.shape)} {out.dtype} {out.device}")
    if batch_indices is None:
        batch_indices = batch.to(torch.int32)
    else:
        batch_indices.copy_(batch)
    if positions is None:
        positions = pos.to(torch.int32)
    else:
        positions.copy_(pos)
    return batch_indices, positions


def append_paged_kv_cache(append_key, append_value, batch_indices, positions,
                          paged_kv_cache, kv_indices, kv_indptr,
                          kv_last_page_len, kv_layout: str = "NHD"):
    """FlashInfer's append: writes each new token's K/V row at its position
    into the request's pages (attn.append_paged_kv, in place). The cache is
    one [pages, 2, ...] tensor or (k_cache, v_cache)."""
    from . import _api
    _api.append_paged_kv_cache(append_key, append_value, batch_indices,
                               positions, paged_kv_cache, kv_indices,
                               kv_indptr, kv_last_page_len, kv_layout)


class AppendPagedKV:
    def __init__(self, module, kernel: Optional[str] = None):
        self.kernel = pick_kernel(
            module, kernel,
            lambda p: "elements_per_thread" in p and "kv_layout" in p,
            "AppendPagedKV", "append")
        self.params = self.kernel.params

    def __call__(self, append_key, append_value, batch_indices, positions,
                 paged_kv_cache, kv_indices, kv_indptr,
                 validate: bool = False, stream=None):
        """Writes the tokens into the cache ((k_cache, v_cache) or one
        [pages, 2, ...] tensor) in place. With `validate`, first checks on
        the host (a sync) that every token lands in one of its request's
        pages of the cache, and raises ValueError naming the first that
        does not."""
        torch = _torch()
        what = "AppendPagedKV"
        k_cache, v_cache = split_paged_cache(paged_kv_cache, what)
        if validate:
            self._validate(batch_indices, positions, k_cache, kv_indices,
                           kv_indptr)
        self.kernel(append_key, append_value, batch_indices.to(torch.int32),
                    positions.to(torch.int32), kv_indices.to(torch.int32),
                    kv_indptr.to(torch.int32), k_cache, v_cache,
                    stream=stream)

    def _validate(self, batch_indices, positions, k_cache, kv_indices,
                  kv_indptr):
        slot_dim = 1 if self.params["kv_layout"] == "nhd" else 2
        page_size = k_cache.shape[slot_dim]
        b = batch_indices.cpu().tolist()
        p = positions.cpu().tolist()
        ip = kv_indptr.cpu().tolist()
        ids = kv_indices.cpu().tolist()
        batch = len(ip) - 1
        for n, (req, pos) in enumerate(zip(b, p)):
            where = f"AppendPagedKV: token {n} (request {req}, position {pos})"
            if not 0 <= req < batch:
                raise ValueError(f"{where}: the request is not in the batch "
                                 f"of {batch}")
            if pos < 0:
                raise ValueError(f"{where}: negative position")
            entry = ip[req] + pos // page_size
            if not ip[req] <= entry < min(ip[req + 1], len(ids)):
                raise ValueError(f"{where}: the request has "
                                 f"{ip[req + 1] - ip[req]} pages of "
                                 f"{page_size}")
            if not 0 <= ids[entry] < k_cache.shape[0]:
                raise ValueError(f"{where}: kv_indices[{entry}] = "
                                 f"{ids[entry]} is not a page of the cache "
                                 f"(it has {k_cache.shape[0]} pages)")
