#pragma once

namespace tfreeze {

class CommandSet;

// `tfreeze train` and `tfreeze bench train` (the LibTorch engine; built with TFREEZE_ENGINE).
void addTrainCommands(CommandSet& commands);

} // namespace tfreeze
