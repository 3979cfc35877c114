#include "ui/queued_call_receiver.h"

#include <QCoreApplication>
#include <QEvent>

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
// In libtsan (GCC and Clang) but not declared in GCC 12's tsan_interface.h.
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
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

// Qt's event list of the receiving thread is guarded by a QMutex, a futex inside libQt6Core that
// TSan cannot see. The only accesses TSan does see there are the copies Qt makes through
// intercepted calls (memmove, realloc) when the list grows or is compacted, on the posting thread
// and, for the events that thread posts itself (a widget's update, a deleteLater, a queued signal),
// on the receiving one; TSan took those for races (CI, 2026-12-08). While a post is inside Qt, the
// posting thread's memory accesses are not recorded: Qt's list and the event, which was marked
// released before (its captures were built in our code and stay checked).
class IgnoredByTsan {
public:
#ifdef TFREEZE_TSAN_ANNOTATIONS
    IgnoredByTsan() { __tsan_ignore_thread_begin(); }
    ~IgnoredByTsan() { __tsan_ignore_thread_end(); }
#else
    IgnoredByTsan() = default;
    ~IgnoredByTsan() = default;
#endif
    IgnoredByTsan(const IgnoredByTsan&) = delete;
    IgnoredByTsan& operator=(const IgnoredByTsan&) = delete;
};

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
    [[maybe_unused]] const IgnoredByTsan insideQt; // a no-op without TSan
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
