#pragma once

#include <vector>

namespace tfreeze {

// The median of `values` (the mean of the two middle ones for an even count); 0 for none. Takes
// its argument by value: it reorders it.
double median(std::vector<double> values);

} // namespace tfreeze
