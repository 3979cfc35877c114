#include "ui/placeholder_table_view.h"

#include <QPainter>

namespace tfreeze {

PlaceholderTableView::PlaceholderTableView(QWidget* parent)
    : QTableView(parent)
{
}

void PlaceholderTableView::setPlaceholderText(const QString& text)
{
    if (text == m_placeholderText)
        return;
    m_placeholderText = text;
    viewport()->update();
}

bool PlaceholderTableView::isPlaceholderShown() const
{
    return !m_placeholderText.isEmpty() && (model() == nullptr || model()->rowCount() == 0);
}

void PlaceholderTableView::setModel(QAbstractItemModel* model)
{
    for (const QMetaObject::Connection& connection : { m_rowsInserted, m_rowsRemoved, m_modelReset })
        disconnect(connection);
    QTableView::setModel(model);
    if (!model)
        return;
    // The first row in, or the last one out, shows or hides the text: repaint the whole viewport.
    const auto repaint = [this] { viewport()->update(); };
    m_rowsInserted = connect(model, &QAbstractItemModel::rowsInserted, this, repaint);
    m_rowsRemoved = connect(model, &QAbstractItemModel::rowsRemoved, this, repaint);
    m_modelReset = connect(model, &QAbstractItemModel::modelReset, this, repaint);
}

void PlaceholderTableView::paintEvent(QPaintEvent* event)
{
    QTableView::paintEvent(event);
    if (!isPlaceholderShown())
        return;
    QPainter painter(viewport());
    painter.setPen(palette().color(QPalette::PlaceholderText));
    const QRect area = viewport()->rect().adjusted(8, 8, -8, -8);
    painter.drawText(area, Qt::AlignCenter | Qt::TextWordWrap, m_placeholderText);
}

} // namespace tfreeze
