#pragma once

// Runs calls posted from any thread on this object's thread, from its event loop, in the order
// they were posted: what a queued QMetaObject::invokeMethod with a functor does, with a hand-over
// that ThreadSanitizer can see.
//
// Qt's event queue synchronises inside libQt6Core, which is not built with TSan. A functor queued
// through invokeMethod is built (and its captures written) on the posting thread and run on this
// one with no order between them that TSan can see, so TSan reports every capture as a race (the
// TSan step of CI runs the UI adapter's tests). Here the event carrying a call is built in our
// code, marked released before it is queued and marked acquired before the call runs or is
// dropped. Qt's own list of queued events, which TSan sees only through the copies Qt makes when
// it grows, is left out of TSan's view while a call is posted. Without TSan the marks compile to
// nothing.

#include <QObject>

#include <functional>

namespace tfreeze {

class QueuedCallReceiver : public QObject {
public:
    explicit QueuedCallReceiver(QObject* parent = nullptr);

    // Thread-safe while this object lives. Calls still queued when it is destroyed are dropped,
    // their captures destroyed on this object's thread. The posting thread gives the captures away
    // (moves them, or sends std::string rather than QString): a share of an implicitly shared Qt
    // value that it drops after posting, while Qt frees the buffer inside its own uninstrumented
    // code, is a race for TSan, and would be one for real if the buffer were written.
    void post(std::function<void()> call);

protected:
    bool event(QEvent* event) override;
};

} // namespace tfreeze
