#pragma once

// Right-click on a table's header to hide or show its columns, as Hotspot's and Qt Creator's tables
// allow: a dock too narrow for eleven columns keeps the ones the user reads. The header's state
// (hidden columns, order, widths) travels with QHeaderView::saveState(), which MainWindow keeps in
// QSettings with the rest of the window's layout.

class QHeaderView;
class QMenu;
class QWidget;

namespace tfreeze {

// Gives `header` the context menu of columnChooserMenu().
void enableColumnChooser(QHeaderView* header);

// One checkable action per column, named by the model's header text, checked while the column is
// shown; toggling one hides or shows it. The last shown column's action is disabled, so a table
// never loses every column. The menu is a child of `parent`.
QMenu* columnChooserMenu(QHeaderView* header, QWidget* parent);

} // namespace tfreeze
