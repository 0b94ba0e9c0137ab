"""`make bench`: run every benchmark in turn."""

from bench import gallery_latency, generate_to_image

if __name__ == "__main__":
    generate_to_image.main()
    gallery_latency.main()
