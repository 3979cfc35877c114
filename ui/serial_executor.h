#pragma once

// A worker thread of its own that runs jobs one at a time, in the order they were posted.
//
// The studio hands work between its threads only through this class (to a worker) and
// QueuedCallReceiver (back to the GUI thread). Both synchronise in ways ThreadSanitizer sees: this
// one with the standard library's mutex and condition variables. Qt's thread pool and QThread
// event loops synchronise inside libQt6Core, which is not built with TSan, so TSan would report
// every value a job captures as a race (the TSan step of CI runs the UI adapter's tests).

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace tfreeze {

class SerialExecutor {
public:
    // `name` names the thread in a debugger and in `top -H` (Linux keeps 15 characters).
    explicit SerialExecutor(std::string name);
    // Runs the jobs already posted, then joins the thread.
    ~SerialExecutor();
    SerialExecutor(const SerialExecutor&) = delete;
    SerialExecutor& operator=(const SerialExecutor&) = delete;

    // Thread-safe. A job that throws is reported on stderr, and the jobs after it still run; a job
    // should turn its errors into results itself (RunHistoryLoader makes them signals).
    void post(std::function<void()> job);
    // Blocks until every job posted so far has run and released its captures. Never from a job:
    // it would wait for itself.
    void waitForIdle();

private:
    void runJobs();

    const std::string m_name;
    std::mutex m_mutex;
    std::condition_variable m_wake; // a job came, or the executor is stopping
    std::condition_variable m_idle; // the last job ran and nothing is queued
    std::deque<std::function<void()>> m_jobs;
    bool m_busy = false;
    bool m_stopping = false;
    std::thread m_thread; // last: it starts once the members above exist
};

} // namespace tfreeze
