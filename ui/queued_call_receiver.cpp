#include "ui/queued_call_receiver.h"

#include <QCoreApplication>
#include <QEvent>

#include <mutex>
#include <utility>

// TSan's own annotations: GCC defines __SANITIZE_THREAD__, Clang answers __has_feature.
#if defined(__SANITIZE_THREAD__)
#define TFREEZE_TSAN_ANNOTATIONS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TFREEZE_TSAN_ANNOTATIONS 1
#endif
#endif
#ifdef TFREEZE_TSAN_ANNOTATIONS
#include <sanitizer/tsan_interface.h>
#endif

namespace tfreeze {

namespace {

// Everything written before the release on the posting thread happens, for TSan, before what
// follows the acquire of the same address on the receiving thread.
void markReleased(void* handOver)
{
#ifdef TFREEZE_TSAN_ANNOTATIONS
    __tsan_release(handOver);
#else
    (void)handOver;
#endif
}

void markAcquired(void* handOver)
{
#ifdef TFREEZE_TSAN_ANNOTATIONS
    __tsan_acquire(handOver);
#else
    (void)handOver;
#endif
}

class QueuedCall final : public QEvent {
public:
    explicit QueuedCall(std::function<void()> call)
        : QEvent(eventType())
        , m_call(std::move(call))
    {
    }
    QueuedCall(const QueuedCall&) = delete;
    QueuedCall& operator=(const QueuedCall&) = delete;
    // Also runs for a call dropped with its receiver: the captures are destroyed after the acquire.
    ~QueuedCall() override { markAcquired(this); }

    static QEvent::Type eventType()
    {
        static const auto type = static_cast<QEvent::Type>(QEvent::registerEventType());
        return type;
    }

    void run() const { m_call(); }

private:
    std::function<void()> m_call;
};

} // namespace

QueuedCallReceiver::QueuedCallReceiver(QObject* parent)
    : QObject(parent)
{
}

void QueuedCallReceiver::post(std::function<void()> call)
{
    auto* event = new QueuedCall(std::move(call));
    markReleased(event);
    // Qt grows the receiving thread's event list under a lock of its own, which TSan cannot see, so
    // two threads posting at once look like a race on that list. Ours, around it, is one uncontended
    // lock per call (tens a second).
    static std::mutex postMutex;
    const std::lock_guard lock(postMutex);
    QCoreApplication::postEvent(this, event); // Qt owns the event from here
}

bool QueuedCallReceiver::event(QEvent* event)
{
    // Before reading even its type: the event may have been built on another thread.
    markAcquired(event);
    if (event->type() != QueuedCall::eventType())
        return QObject::event(event);
    static_cast<const QueuedCall*>(event)->run();
    return true;
}

} // namespace tfreeze
