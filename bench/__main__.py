"""`make bench`: run every benchmark in turn."""

from bench import generate_to_image

if __name__ == "__main__":
    generate_to_image.main()
