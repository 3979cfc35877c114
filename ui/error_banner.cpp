#include "ui/error_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>
#include <QToolButton>

namespace tfreeze {

ErrorBanner::ErrorBanner(QWidget* parent)
    : QWidget(parent)
    , m_icon(new QLabel(this))
    , m_label(new QLabel(this))
    , m_close(new QToolButton(this))
{
    setAutoFillBackground(true);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    layout->addWidget(m_icon);
    layout->addWidget(m_label, 1);
    layout->addWidget(m_close);
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_close->setIcon(style()->standardIcon(QStyle::SP_TitleBarCloseButton));
    m_close->setAutoRaise(true);
    m_close->setToolTip(tr("Dismiss"));
    connect(m_close, &QToolButton::clicked, this, [this] {
        hide();
        emit dismissed();
    });
    hide();
}

void ErrorBanner::showMessage(Level level, const QString& text)
{
    m_level = level;
    m_label->setText(text);
    applyLevelColours();
    show();
}

QString ErrorBanner::text() const { return m_label->text(); }

void ErrorBanner::applyLevelColours()
{
    // Tinted from the palette's own base colour so that the strip reads on dark themes as well.
    QColor tint;
    QStyle::StandardPixmap icon = QStyle::SP_MessageBoxInformation;
    switch (m_level) {
    case Level::Information:
        tint = QColor(60, 130, 220);
        break;
    case Level::Warning:
        tint = QColor(230, 160, 30);
        icon = QStyle::SP_MessageBoxWarning;
        break;
    case Level::Error:
        tint = QColor(220, 50, 50);
        icon = QStyle::SP_MessageBoxCritical;
        break;
    }
    const QColor base = palette().color(QPalette::Base);
    const auto mix = [](int a, int b) { return (a * 3 + b) / 4; };
    QPalette pal = palette();
    pal.setColor(QPalette::Window,
        QColor(mix(base.red(), tint.red()), mix(base.green(), tint.green()), mix(base.blue(), tint.blue())));
    setPalette(pal);
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    m_icon->setPixmap(style()->standardIcon(icon).pixmap(size, size));
}

} // namespace tfreeze
