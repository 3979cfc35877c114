#pragma once

#include "core/plan/telemetry.h"
#include "core/store/span_retention.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tfreeze {

class RunStore;

struct RunRecorderOptions {
    SpanRetention retention;
    // The most time between a publish and its commit; less when a batch fills first.
    std::chrono::milliseconds commitInterval { 250 };
    std::size_t maxBatchEvents = 50'000;
    // A cap on the database file in bytes (0: none); past it writes fail as on a full disk.
    std::int64_t maxDatabaseBytes = 0;
    // Called on the writer thread, once, when a write fails; the engine stops the run with the text.
    std::function<void(const std::string& error)> onError;
    // Called on the writer thread after each commit with the last step whose StepStats it committed.
    std::function<void(std::int64_t step)> onCommitted;
};

// Records one run's telemetry into the run database: publish() only queues (never drops, never
// waits on SQLite); a writer thread with its own connection commits the queue in one transaction
// at most every commitInterval. RunFinished and RunFailed set the run's status; closing without
// either marks the run interrupted. After a failed write (disk full, read-only file) the recorder
// keeps the error, accepts nothing more and leaves what it committed intact.
class RunRecorder : public TelemetrySink {
public:
    // Records into the existing run `runId` of the file at `dbPath`.
    RunRecorder(const std::string& dbPath, std::int64_t runId, RunRecorderOptions options = {});
    // Closes (flushes) first.
    ~RunRecorder() override;
    RunRecorder(const RunRecorder&) = delete;
    RunRecorder& operator=(const RunRecorder&) = delete;

    std::int64_t runId() const { return m_runId; }

    void publish(const TelemetryEvent& event) override;
    // Returns once everything published before was committed, or the recorder failed.
    void flush();
    // Flushes and stops the writer thread; later publishes are ignored.
    void close();

    // The first write failure, if any.
    std::optional<std::string> error() const;
    std::int64_t lastCommittedStep() const;
    std::uint64_t committedSpanCount() const;

private:
    // Every event but spans, with its place in the span stream: the spans published before it.
    struct Queued {
        TelemetryEvent event;
        std::string time; // for events and status changes; empty for the rest
        std::size_t spansBefore = 0;
    };
    // What publish() queued since the writer last took it. Spans, nearly all of the telemetry, are
    // kept apart as plain structs; the writer swaps the whole batch for an empty one under the lock,
    // so neither side allocates once the buffers have grown.
    struct Batch {
        std::vector<ActionSpan> spans;
        std::vector<Queued> events;
        std::size_t size() const { return spans.size() + events.size(); }
        bool empty() const { return spans.empty() && events.empty(); }
        void clear()
        {
            spans.clear();
            events.clear();
        }
    };

    void writerLoop();
    void writeBatch(const Batch& batch);

    std::string m_dbPath;
    std::int64_t m_runId = 0;
    RunRecorderOptions m_options;
    std::unique_ptr<RunStore> m_store; // used by the writer thread only
    SpanRetentionFilter m_retention; // writer thread only
    std::vector<ActionSpan> m_keep; // writer thread only: the spans of a batch that are written

    mutable std::mutex m_mutex;
    std::condition_variable m_wake; // to the writer: work, a flush or close
    std::condition_variable m_committed; // to flush(): a batch is done
    Batch m_queue;
    std::uint64_t m_published = 0; // events queued so far
    std::uint64_t m_written = 0; // events committed (or given up on) so far
    bool m_flushRequested = false;
    bool m_closing = false;
    bool m_closed = false;
    bool m_finished = false; // a RunFinished or RunFailed was committed
    std::optional<std::string> m_error;
    std::int64_t m_lastCommittedStep = -1;
    std::uint64_t m_committedSpans = 0;
    std::thread m_writer;
};

} // namespace tfreeze
