#pragma once

#include <QWidget>

class QLabel;
class QToolButton;

namespace tfreeze {

// A dismissable message strip above the timeline (in the way of KMessageWidget): engine failures and
// bad files are shown here without a modal dialog, so the window stays usable while the message stays
// visible.
class ErrorBanner : public QWidget {
    Q_OBJECT
public:
    enum class Level { Information, Warning, Error };

    explicit ErrorBanner(QWidget* parent = nullptr);

    void showMessage(Level level, const QString& text);
    QString text() const;
    Level level() const { return m_level; }

signals:
    void dismissed();

private:
    void applyLevelColours();

    QLabel* m_icon = nullptr;
    QLabel* m_label = nullptr;
    QToolButton* m_close = nullptr;
    Level m_level = Level::Information;
};

} // namespace tfreeze
