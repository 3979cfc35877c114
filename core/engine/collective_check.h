#pragma once

// Torch-free: `tfreeze doctor` runs this to show that a c10d backend works on this machine (or,
// under torchrun, across the job) before a long run depends on it.

#include <string>
#include <vector>

namespace tfreeze {

struct CollectiveCheckResult {
    bool ok = true;
    std::vector<std::string> lines; // what was checked and measured, one finding per line
};

// Joins the job that RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT describe (world size 1 without
// them) over `backend` ("gloo" or "nccl") and checks all-reduce, broadcast, all-gather and, with
// more than one rank, a send/receive ring against the values every rank can compute; then times
// `rounds` all-reduces of 4 MiB. Tensors are on the CPU for Gloo, on cuda:LOCAL_RANK for NCCL.
// Throws InputError for an unknown or unavailable backend, std::runtime_error when the job cannot
// form.
CollectiveCheckResult checkCollectives(const std::string& backend, int rounds);

// "LibTorch 2.11.0 (CUDA), 1 CUDA device(s); c10d backends: gloo, nccl", for the same report.
std::string engineCapabilities();

} // namespace tfreeze
