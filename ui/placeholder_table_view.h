#pragma once

// A QTableView that says what would fill it while its model has no rows ("No range selected:
// Shift+drag across the timeline"), as Qt Creator's and Hotspot's empty views do, so that a dock
// that starts empty tells the user how to fill it instead of showing a bare header.

#include <QTableView>

namespace tfreeze {

class PlaceholderTableView : public QTableView {
    Q_OBJECT

public:
    explicit PlaceholderTableView(QWidget* parent = nullptr);

    QString placeholderText() const { return m_placeholderText; }
    void setPlaceholderText(const QString& text);
    // Whether the text is shown now: set, and the model has no rows.
    bool isPlaceholderShown() const;

    void setModel(QAbstractItemModel* model) override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString m_placeholderText;
    QMetaObject::Connection m_rowsInserted;
    QMetaObject::Connection m_rowsRemoved;
    QMetaObject::Connection m_modelReset;
};

} // namespace tfreeze
