/* libFuzzer target for the packet and flow path (make fuzz). */
#include "entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_review_one(data, size);
}
