#include "ui/serial_executor.h"

#include <exception>
#include <iostream>
#include <utility>

#include <pthread.h>

namespace tfreeze {

SerialExecutor::SerialExecutor(std::string name)
    : m_name(std::move(name))
    , m_thread([this] { runJobs(); })
{
    // Linux keeps 15 characters; pthread_setname_np refuses a longer name rather than cutting it.
    pthread_setname_np(m_thread.native_handle(), m_name.substr(0, 15).c_str());
}

SerialExecutor::~SerialExecutor()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

void SerialExecutor::post(std::function<void()> job)
{
    {
        const std::lock_guard lock(m_mutex);
        m_jobs.push_back(std::move(job));
    }
    m_wake.notify_one();
}

void SerialExecutor::waitForIdle()
{
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return m_jobs.empty() && !m_busy; });
}

void SerialExecutor::runJobs()
{
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_jobs.empty(); });
            if (m_jobs.empty())
                return; // stopping, and every job posted before has run
            job = std::move(m_jobs.front());
            m_jobs.pop_front();
            m_busy = true;
        }
        try {
            job();
        } catch (const std::exception& error) {
            std::cerr << "tfreeze: a job on thread \"" << m_name << "\" failed: " << error.what() << '\n';
        } catch (...) {
            std::cerr << "tfreeze: a job on thread \"" << m_name << "\" failed\n";
        }
        job = nullptr; // its captures go here, on this thread, before the executor reports idle
        {
            const std::lock_guard lock(m_mutex);
            m_busy = false;
            if (!m_jobs.empty())
                continue;
        }
        m_idle.notify_all();
    }
}

} // namespace tfreeze
