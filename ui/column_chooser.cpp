#include "ui/column_chooser.h"

#include <QAbstractItemModel>
#include <QHeaderView>
#include <QMenu>

namespace tfreeze {

namespace {
int shownCount(const QHeaderView* header)
{
    int shown = 0;
    for (int section = 0; section < header->count(); ++section)
        shown += header->isSectionHidden(section) ? 0 : 1;
    return shown;
}
} // namespace

QMenu* columnChooserMenu(QHeaderView* header, QWidget* parent)
{
    auto* menu = new QMenu(QObject::tr("Columns"), parent);
    const QAbstractItemModel* model = header->model();
    if (!model)
        return menu;
    const bool onlyOneShown = shownCount(header) <= 1;
    // In the order the user sees the columns.
    for (int visual = 0; visual < header->count(); ++visual) {
        const int section = header->logicalIndex(visual);
        const QString title = model->headerData(section, header->orientation(), Qt::DisplayRole).toString();
        QAction* action = menu->addAction(title);
        action->setCheckable(true);
        const bool shown = !header->isSectionHidden(section);
        action->setChecked(shown);
        action->setEnabled(!(shown && onlyOneShown));
        QObject::connect(action, &QAction::toggled, header, [header, section](bool show) {
            if (!show && shownCount(header) <= 1)
                return;
            header->setSectionHidden(section, !show);
        });
    }
    return menu;
}

void enableColumnChooser(QHeaderView* header)
{
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(header, &QWidget::customContextMenuRequested, header, [header](const QPoint& position) {
        QMenu* menu = columnChooserMenu(header, header);
        menu->setAttribute(Qt::WA_DeleteOnClose);
        menu->popup(header->mapToGlobal(position));
    });
}

} // namespace tfreeze
