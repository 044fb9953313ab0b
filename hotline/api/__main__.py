from hotline.api.app import main

main()
