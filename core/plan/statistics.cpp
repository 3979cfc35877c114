#include "core/plan/statistics.h"

#include <algorithm>
#include <cstddef>

namespace tfreeze {

double median(std::vector<double> values)
{
    if (values.empty())
        return 0.0;
    const std::size_t n = values.size();
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(n / 2);
    std::nth_element(values.begin(), middle, values.end());
    if (n % 2 == 1)
        return *middle;
    const double upper = *middle;
    const double lower = *std::max_element(values.begin(), middle);
    return (lower + upper) / 2.0;
}

} // namespace tfreeze
