#pragma once

#include <QString>

class QWidget;

namespace tfreeze {

// The versions of everything the studio is built on, as the About box and bug reports show them.
QString studioVersionsText();

void showAboutDialog(QWidget* parent);

} // namespace tfreeze
