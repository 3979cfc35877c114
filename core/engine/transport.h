#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include <torch/torch.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace tfreeze {

// Activation: the input of `stage` (the output of stage − 1), going forward.
// Gradient: the gradient w.r.t. the output of `stage` (the input gradient of stage + 1), going back.
enum class TransportDirection : std::uint8_t { Activation, Gradient };

struct TransportKey {
    int stage = 0;
    int microbatch = 0;
    TransportDirection direction = TransportDirection::Activation;

    friend bool operator==(const TransportKey& a, const TransportKey& b)
    {
        return a.stage == b.stage && a.microbatch == b.microbatch && a.direction == b.direction;
    }
};

// Thrown by receive() once the transport is aborted: the worker stops without reporting an error
// of its own (the one that aborted reports it).
class TransportAborted : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Moves stage activations and gradients between the ranks of one pipeline. The runtime knows only
// this interface: the in-process implementation passes tensor handles between threads; a c10d one
// (one process per rank) would map the key to a (peer rank, tag) pair and send/recv over a
// ProcessGroup. A key is sent exactly once and received exactly once per step.
class Transport {
public:
    virtual ~Transport() = default;

    // Never blocks on the receiver. The tensor is moved, not copied.
    virtual void send(const TransportKey& key, torch::Tensor tensor) = 0;
    // Blocks until the key's tensor arrives; throws TransportAborted once abort() was called.
    virtual torch::Tensor receive(const TransportKey& key) = 0;
    // Wakes every blocked receive() (they throw) and fails every later one until reset().
    virtual void abort(const std::string& reason) = 0;
    virtual bool aborted() const = 0;
    // Between steps (no receive in flight): drops undelivered tensors and clears the abort.
    virtual void reset() = 0;
};

} // namespace tfreeze
